package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Verdict;
import org.robustflow.milp.MilpResult;
import org.robustflow.milp.MilpVerifier;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MilpFunctionTest {
    /** A solver that takes {@code millis} (interruptibly) and then certifies. */
    private record SlowVerifier(long millis) implements MilpVerifier {
        @Override
        public MilpResult verify(
                Network mlp,
                double[] x,
                int label,
                double eps,
                CrownPropagator.RowBounds bounds,
                long timeLimitMs) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new MilpResult(Verdict.TIMEOUT, null, -1, 0, 0, 0, "interrupted");
            }
            return new MilpResult(Verdict.CERTIFIED, null, -1, 1, 0, millis * 1000, "");
        }
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, VerificationTask, ModelEvent, VerdictEvent>
            harness(MilpVerifier verifier, long timeLimitMs) throws Exception {
        var h =
                new KeyedTwoInputStreamOperatorTestHarness<
                        String, VerificationTask, ModelEvent, VerdictEvent>(
                        new KeyedCoProcessOperator<>(
                                new MilpFunction(verifier, timeLimitMs, 1, 200, 60_000)),
                        VerificationTask::key,
                        (ModelEvent m) -> ModelFanout.routingKey(m),
                        Types.STRING);
        h.open();
        h.setProcessingTime(0);
        return h;
    }

    @Test
    void shouldSolveOffTheTaskThreadAndEmitFromATimer() throws Exception {
        Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
        VerificationTask task =
                new VerificationTask(PipelineFixtures.image("r", 0, 1), 0.01, mlp.version());
        // ND4J loads its natives on first use: not what this test times.
        double[][] box = org.robustflow.bounds.InputBox.of(task.scaledPixels(), task.eps);
        new CrownPropagator(mlp).bound(box[0], box[1], task.label);
        try (var h = harness(new SlowVerifier(500), 5_000)) {
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            long start = System.nanoTime();
            h.processElement1(new StreamRecord<>(task));
            long heldMs = (System.nanoTime() - start) / 1_000_000;
            assertThat(heldMs).as("task thread held for the solve").isLessThan(400);
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);

            h.setProcessingTime(MilpFunction.POLL_MS); // still solving: polls again
            assertThat(h.extractOutputValues()).isEmpty();
            Thread.sleep(700);
            h.setProcessingTime(2 * MilpFunction.POLL_MS);
            List<VerdictEvent> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).verdict).isEqualTo(Verdict.CERTIFIED);
            assertThat(out.get(0).method).isEqualTo("milp");
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(h.numProcessingTimeTimers()).isZero();
        }
    }

    @Test
    void shouldReportTimeoutWhenTheSolverOverrunsItsLimit() throws Exception {
        Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
        try (var h = harness(new SlowVerifier(60_000), 100)) {
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            h.processElement1(
                    new StreamRecord<>(
                            new VerificationTask(
                                    PipelineFixtures.image("r", 0, 1), 0.01, mlp.version())));
            for (long t = MilpFunction.POLL_MS;
                    t <= 100 + MilpFunction.GRACE_MS + 2 * MilpFunction.POLL_MS;
                    t += MilpFunction.POLL_MS) {
                h.setProcessingTime(t);
            }
            List<VerdictEvent> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            assertThat(out.get(0).verdict).isEqualTo(Verdict.TIMEOUT);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }
}
