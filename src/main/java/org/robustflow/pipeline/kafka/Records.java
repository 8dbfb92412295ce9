package org.robustflow.pipeline.kafka;

import org.robustflow.avro.Counterexample;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.RunAnnouncement;
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
                .setModelVersion(a.modelVersion == null ? "" : a.modelVersion)
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
                .setRejected(a.rejected)
                .setImagesDone(a.imagesDone)
                .setRunRows(a.runRows)
                .setMissingImages(boxed(a.missingImages))
                .setUpdatedAt(Instant.ofEpochMilli(a.updatedAt))
                .build();
    }

    private static List<Long> boxed(long[] values) {
        List<Long> list = new ArrayList<>();
        if (values != null) {
            for (long v : values) {
                list.add(v);
            }
        }
        return list;
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

    /**
     * The Avro form of a dead letter; null fields become their defaults, so writing a dead letter
     * can never fail (a failing one would restart the job on the same record forever).
     */
    public static DeadLetter deadLetter(DeadLetterEvent d) {
        return DeadLetter.newBuilder()
                .setSource(d.source == null ? "" : d.source)
                .setPartition(d.partition)
                .setOffset(d.offset)
                .setReason(d.reason == null || d.reason.isEmpty() ? "no reason given" : d.reason)
                .setPayload(ByteBuffer.wrap(d.payload == null ? new byte[0] : d.payload))
                .setAt(Instant.now())
                .setRunId(d.runId == null ? "" : d.runId)
                .setImageId(d.imageId)
                .build();
    }

    /** A readable reason for a failure, never null (some exceptions have no message). */
    public static String reason(Throwable e) {
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.toString() : message;
    }

    /** A run announcement as the job reads it. */
    public static RunAnnouncement announcement(String runId, int imageCount, String source) {
        return RunAnnouncement.newBuilder()
                .setRunId(runId)
                .setImageCount(imageCount)
                .setSource(source)
                .setAnnouncedAt(Instant.now())
                .build();
    }
}
