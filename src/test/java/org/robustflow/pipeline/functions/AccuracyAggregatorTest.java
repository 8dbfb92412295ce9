package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.KeyedProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.Verdict;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.VerdictEvent;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AccuracyAggregatorTest {
    private static VerdictEvent verdict(long image, Verdict verdict, int expected) {
        VerdictEvent v = new VerdictEvent();
        v.runId = "r";
        v.modelVersion = "m";
        v.imageId = image;
        v.eps = 0.01;
        v.verdict = verdict;
        v.method = verdict == Verdict.FALSIFIED ? "pgd" : "box";
        v.expectedTotal = expected;
        return v;
    }

    private static List<AccuracyEvent> output(
            KeyedOneInputStreamOperatorTestHarness<String, VerdictEvent, AccuracyEvent> h) {
        return h.extractOutputValues();
    }

    @Test
    void shouldRateLimitUpdatesAndEmitTheFinalRecordAtOnce() throws Exception {
        try (var h =
                new KeyedOneInputStreamOperatorTestHarness<>(
                        new KeyedProcessOperator<>(new AccuracyAggregator(1000)),
                        AccuracyAggregator::keyOf,
                        Types.STRING)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 4)));
            h.processElement(new StreamRecord<>(verdict(1, Verdict.UNKNOWN, 4)));
            assertThat(output(h)).isEmpty();
            assertThat(h.numProcessingTimeTimers()).isEqualTo(1);

            h.setProcessingTime(1000);
            assertThat(output(h)).hasSize(1);
            assertThat(output(h).get(0).seen).isEqualTo(2);
            assertThat(h.numProcessingTimeTimers()).isZero();

            h.processElement(new StreamRecord<>(verdict(2, Verdict.MISCLASSIFIED, 4)));
            h.processElement(new StreamRecord<>(verdict(3, Verdict.FALSIFIED, 4)));
            List<AccuracyEvent> out = output(h);
            assertThat(out).hasSize(2);
            AccuracyEvent last = out.get(1);
            assertThat(last.complete).isTrue();
            assertThat(last.certified).isEqualTo(1);
            assertThat(last.unknown).isEqualTo(1);
            assertThat(last.misclassified).isEqualTo(1);
            assertThat(last.falsified).isEqualTo(1);
            assertThat(last.certifiedByBounds).isEqualTo(1);
            assertThat(last.falsifiedByPgd).isEqualTo(1);
            assertThat(last.certifiedByMilp + last.falsifiedByMilp).isZero();
            assertThat(last.robustAccuracyLower).isCloseTo(0.25, within(1e-12));
            assertThat(last.robustAccuracyUpper).isCloseTo(0.5, within(1e-12));
            assertThat(last.key()).isEqualTo("r/m/0.0100");
            assertThat(h.numProcessingTimeTimers()).isZero();
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);
        }
    }
}
