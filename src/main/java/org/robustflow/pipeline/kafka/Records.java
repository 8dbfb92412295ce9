package org.robustflow.pipeline.kafka;

import org.robustflow.avro.Counterexample;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.VerdictKind;
import org.robustflow.avro.VerdictRecord;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.VerdictEvent;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Conversions between the job's records and their Avro forms on Kafka. */
public final class Records {
    private Records() {}

    public static ImageEvent image(MnistImage m) {
        ByteBuffer buf = m.getPixels();
        byte[] pixels = new byte[buf.remaining()];
        buf.duplicate().get(pixels);
        return new ImageEvent(
                m.getRunId(),
                m.getImageId(),
                m.getLabel(),
                m.getWidth(),
                m.getHeight(),
                pixels,
                m.getExpectedTotal());
    }

    public static VerdictRecord verdict(VerdictEvent v) {
        return VerdictRecord.newBuilder()
                .setRunId(v.runId)
                .setImageId(v.imageId)
                .setEps(v.eps)
                .setModelVersion(v.modelVersion)
                .setVerdict(VerdictKind.valueOf(v.verdict.name()))
                .setMethod(v.method)
                .setMarginLowerBound(v.marginLowerBound)
                .setUnstableRelus(v.unstableRelus)
                .setMicros(v.micros)
                .build();
    }

    public static EpsilonAccuracy accuracy(AccuracyEvent a) {
        return EpsilonAccuracy.newBuilder()
                .setRunId(a.runId)
                .setModelVersion(a.modelVersion)
                .setEps(a.eps)
                .setExpectedTotal(a.expectedTotal)
                .setSeen(a.seen)
                .setCertified(a.certified)
                .setFalsified(a.falsified)
                .setMisclassified(a.misclassified)
                .setUnknown(a.unknown)
                .setRobustAccuracyLower(a.robustAccuracyLower)
                .setRobustAccuracyUpper(a.robustAccuracyUpper)
                .setComplete(a.complete)
                .setCertifiedByBounds(a.certifiedByBounds)
                .setCertifiedByMilp(a.certifiedByMilp)
                .setFalsifiedByPgd(a.falsifiedByPgd)
                .setFalsifiedByMilp(a.falsifiedByMilp)
                .setUpdatedAt(Instant.ofEpochMilli(a.updatedAt))
                .build();
    }

    public static Counterexample counterexample(VerdictEvent v) {
        List<Double> witness = new ArrayList<>(v.witness.length);
        for (double p : v.witness) {
            witness.add(p);
        }
        return Counterexample.newBuilder()
                .setRunId(v.runId)
                .setImageId(v.imageId)
                .setEps(v.eps)
                .setModelVersion(v.modelVersion)
                .setLabel(v.label)
                .setPredicted(v.witnessClass)
                .setMethod(v.method)
                .setWitness(witness)
                .build();
    }

    public static DeadLetter deadLetter(DeadLetterEvent d) {
        return DeadLetter.newBuilder()
                .setSource(d.source)
                .setPartition(d.partition)
                .setOffset(d.offset)
                .setReason(d.reason)
                .setPayload(ByteBuffer.wrap(d.payload == null ? new byte[0] : d.payload))
                .setAt(Instant.now())
                .build();
    }
}
