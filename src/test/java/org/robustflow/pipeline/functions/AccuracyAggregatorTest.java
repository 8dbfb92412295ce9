package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.Verdict;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.RunSignal;
import org.robustflow.pipeline.records.VerdictEvent;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AccuracyAggregatorTest {
    private static final long INTERVAL = 1000;
    private static final long STALL = 30_000;
    private static final long RETENTION = 60_000;

    private static VerdictEvent verdict(
            long image, String model, double eps, Verdict verdict, int expected) {
        VerdictEvent v = new VerdictEvent();
        v.runId = "r";
        v.modelVersion = model;
        v.imageId = image;
        v.eps = eps;
        v.verdict = verdict;
        v.method = verdict == Verdict.FALSIFIED ? "pgd" : "box";
        v.expectedTotal = expected;
        return v;
    }

    private static VerdictEvent verdict(long image, Verdict verdict, int expected) {
        return verdict(image, "m", 0.01, verdict, expected);
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, VerdictEvent, RunSignal, AccuracyEvent>
            harness(int epsPerImage) throws Exception {
        var h =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(
                                new AccuracyAggregator(epsPerImage, INTERVAL, STALL, RETENTION)),
                        (VerdictEvent v) -> v.runId,
                        (RunSignal s) -> s.runId,
                        Types.STRING);
        h.open();
        h.setProcessingTime(0);
        return h;
    }

    private static List<AccuracyEvent> output(
            KeyedTwoInputStreamOperatorTestHarness<String, VerdictEvent, RunSignal, AccuracyEvent>
                    h) {
        return h.extractOutputValues();
    }

    @Test
    void shouldRateLimitUpdatesAndEmitTheFinalRecordAtOnce() throws Exception {
        try (var h = harness(1)) {
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 4)));
            h.processElement1(new StreamRecord<>(verdict(1, Verdict.UNKNOWN, 4)));
            assertThat(output(h)).isEmpty();
            assertThat(h.numProcessingTimeTimers()).isEqualTo(1);

            h.setProcessingTime(INTERVAL);
            assertThat(output(h)).hasSize(1);
            assertThat(output(h).get(0).seen).isEqualTo(2);
            assertThat(output(h).get(0).complete).isFalse();

            h.processElement1(new StreamRecord<>(verdict(2, Verdict.MISCLASSIFIED, 4)));
            h.processElement1(new StreamRecord<>(verdict(3, Verdict.FALSIFIED, 4)));
            List<AccuracyEvent> out = output(h);
            assertThat(out).hasSize(2);
            AccuracyEvent last = out.get(1);
            assertThat(last.complete).isTrue();
            assertThat(last.imagesDone).isEqualTo(4);
            assertThat(last.runRows).isEqualTo(1);
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
        }
    }

    @Test
    void shouldCountWhatTheExactStageDecidedWhicheverMethodItRuns() throws Exception {
        try (var h = harness(1)) {
            String[] methods = {"bab", "milp", "bab", "milp", "crown", "pgd"};
            Verdict[] verdicts = {
                Verdict.CERTIFIED,
                Verdict.CERTIFIED,
                Verdict.FALSIFIED,
                Verdict.FALSIFIED,
                Verdict.CERTIFIED,
                Verdict.FALSIFIED
            };
            for (int i = 0; i < methods.length; i++) {
                VerdictEvent v = verdict(i, verdicts[i], methods.length);
                v.method = methods[i];
                h.processElement1(new StreamRecord<>(v));
            }
            List<AccuracyEvent> out = output(h);
            AccuracyEvent last = out.get(out.size() - 1);
            assertThat(last.complete).isTrue();
            assertThat(last.certifiedByMilp).isEqualTo(2);
            assertThat(last.falsifiedByMilp).isEqualTo(2);
            assertThat(last.certifiedByBounds).isEqualTo(1);
            assertThat(last.falsifiedByPgd).isEqualTo(1);
        }
    }

    @Test
    void shouldCompleteARunSplitAcrossTwoModelVersions() throws Exception {
        try (var h = harness(2)) {
            h.processElement2(new StreamRecord<>(RunSignal.announced("r", 2)));
            for (double eps : new double[] {0.01, 0.02}) {
                h.processElement1(new StreamRecord<>(verdict(0, "m1", eps, Verdict.CERTIFIED, 2)));
            }
            h.processElement1(new StreamRecord<>(verdict(1, "m2", 0.01, Verdict.CERTIFIED, 2)));
            assertThat(output(h)).isEmpty();
            h.processElement1(new StreamRecord<>(verdict(1, "m2", 0.02, Verdict.UNKNOWN, 2)));
            List<AccuracyEvent> out = output(h);
            assertThat(out).hasSize(4).allMatch(a -> a.complete && a.runRows == 4);
            assertThat(out).extracting(a -> a.modelVersion).containsOnly("m1", "m2");
            assertThat(out).allMatch(a -> a.seen == 1);
        }
    }

    @Test
    void shouldCountARejectedImageAsDone() throws Exception {
        try (var h = harness(1)) {
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 3)));
            h.processElement2(
                    new StreamRecord<>(RunSignal.rejected("r", 1, 3, "label 12 is out of range")));
            assertThat(output(h)).isEmpty();
            h.processElement1(new StreamRecord<>(verdict(2, Verdict.CERTIFIED, 3)));
            AccuracyEvent last = output(h).get(output(h).size() - 1);
            assertThat(last.complete).isTrue();
            assertThat(last.rejected).isEqualTo(1);
            assertThat(last.imagesDone).isEqualTo(3);
            assertThat(last.seen).isEqualTo(2);
        }
    }

    @Test
    void shouldNotCompleteEarlyOnRejectionsOutsideTheRunOrWithoutAnId() throws Exception {
        try (var h = harness(1)) {
            h.processElement2(new StreamRecord<>(RunSignal.rejected("r", 5000, 2, "too many")));
            h.processElement2(new StreamRecord<>(RunSignal.rejected("r", -1, 0, "unreadable")));
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 2)));
            assertThat(output(h)).isEmpty();
            h.processElement1(new StreamRecord<>(verdict(1, Verdict.CERTIFIED, 2)));
            AccuracyEvent last = output(h).get(output(h).size() - 1);
            assertThat(last.complete).isTrue();
            assertThat(last.rejected).isEqualTo(2);
            assertThat(last.imagesDone).isEqualTo(2);
        }
    }

    @Test
    void shouldCountAgainWhenTheAnnouncementComesAfterTheImages() throws Exception {
        try (var h = harness(1)) {
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 0)));
            h.processElement1(new StreamRecord<>(verdict(1, Verdict.CERTIFIED, 0)));
            assertThat(output(h)).isEmpty();
            h.processElement2(new StreamRecord<>(RunSignal.announced("r", 2)));
            AccuracyEvent last = output(h).get(output(h).size() - 1);
            assertThat(last.complete).isTrue();
            assertThat(last.imagesDone).isEqualTo(2);
        }
    }

    @Test
    void shouldCompleteARunWhoseImagesWereAllRejected() throws Exception {
        try (var h = harness(1)) {
            h.processElement2(new StreamRecord<>(RunSignal.announced("r", 1)));
            h.processElement2(new StreamRecord<>(RunSignal.rejected("r", 0, 1, "bad")));
            List<AccuracyEvent> out = output(h);
            assertThat(out).hasSize(1);
            assertThat(out.get(0).complete).isTrue();
            assertThat(out.get(0).modelVersion).isEmpty();
            assertThat(out.get(0).runRows).isZero();
        }
    }

    @Test
    void shouldListMissingImagesWhenTheRunStalls() throws Exception {
        try (var h = harness(1)) {
            h.processElement2(new StreamRecord<>(RunSignal.announced("r", 4)));
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 4)));
            h.processElement1(new StreamRecord<>(verdict(2, Verdict.CERTIFIED, 4)));
            h.setProcessingTime(INTERVAL);
            assertThat(output(h)).hasSize(1);
            assertThat(output(h).get(0).missingImages).isEmpty();
            h.setProcessingTime(STALL);
            List<AccuracyEvent> out = output(h);
            assertThat(out).hasSize(2);
            assertThat(out.get(1).missingImages).containsExactly(1, 3);
            assertThat(out.get(1).complete).isFalse();
            assertThat(h.numProcessingTimeTimers()).isZero(); // reported once, until progress
        }
    }

    @Test
    void shouldDropTheStateOfACompleteRunAfterTheRetention() throws Exception {
        try (var h = harness(1)) {
            h.processElement1(new StreamRecord<>(verdict(0, Verdict.CERTIFIED, 1)));
            assertThat(output(h)).hasSize(1);
            assertThat(h.numKeyedStateEntries()).isPositive();
            h.setProcessingTime(RETENTION);
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(h.numProcessingTimeTimers()).isZero();
        }
    }
}
