package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.BoxCertifier;
import org.robustflow.bounds.Certifier;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BoundFunctionTest {
    @Test
    void shouldDecideTasksLikeTheOfflineCertifierAndWaitForTheirModel() throws Exception {
        Network mlp = Fixtures.defaultModel();
        try (var h =
                new KeyedTwoInputStreamOperatorTestHarness<
                        String, VerificationTask, ModelEvent, VerdictEvent>(
                        new KeyedCoProcessOperator<>(boxBatches(32, 0)),
                        (VerificationTask t) -> t.runId + "/" + t.imageId + "/" + t.eps,
                        (ModelEvent m) -> ModelFanout.routingKey(m),
                        Types.STRING)) {
            h.open();
            h.setProcessingTime(0);
            VerificationTask task =
                    new VerificationTask(PipelineFixtures.image("r", 0, 1), 0.001, mlp.version());
            h.processElement1(new StreamRecord<>(task));
            assertThat(h.extractOutputValues()).isEmpty();
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);

            h.setProcessingTime(0);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            // The model's arrival releases nothing by itself: the task's own timer does.
            assertThat(h.extractOutputValues()).isEmpty();
            h.setProcessingTime(200);
            List<VerdictEvent> out = h.extractOutputValues();
            assertThat(out).hasSize(1);
            Certifier.Result expected =
                    new BoxCertifier(mlp)
                            .certifyGrid(
                                    Fixtures.mnistTest().pixels(0),
                                    new int[] {7},
                                    new double[] {0.001})[0][0];
            assertThat(out.get(0).verdict).isEqualTo(expected.verdict());
            assertThat(out.get(0).marginLowerBound).isEqualTo(expected.marginLowerBound());
            assertThat(out.get(0).unstableRelus).isEqualTo(expected.unstableRelus());
            assertThat(out.get(0).method).isEqualTo("box");
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, VerificationTask, ModelEvent, VerdictEvent>
            harness(BoundFunction function) throws Exception {
        return new KeyedTwoInputStreamOperatorTestHarness<>(
                new KeyedCoProcessOperator<>(function),
                VerificationTask::key,
                (ModelEvent m) -> ModelFanout.routingKey(m),
                Types.STRING);
    }

    /** Box bounds, no attack, no exact stage; a model is kept a minute. */
    private static BoundFunction boxBatches(int size, long latencyMs) {
        return new BoundFunction(
                "box", null, -1, new BoundFunction.Batching(size, latencyMs, 60_000), 200, 60_000);
    }

    private static VerificationTask task(int image, Network mlp) {
        return new VerificationTask(PipelineFixtures.image("r", image, 10), 0.001, mlp.version());
    }

    @Test
    void shouldKeepOnlyTheNewestModelAndTheVersionsTasksStillName() throws Exception {
        Network v1 = Fixtures.randomMlp(1, 784, 10, 10);
        Network v2 = Fixtures.randomMlp(2, 784, 10, 10);
        Network v3 = Fixtures.randomMlp(3, 784, 10, 10);
        BoundFunction function =
                new BoundFunction(
                        "box", null, -1, new BoundFunction.Batching(32, 0, 60_000), 200, 1_000);
        try (var h = harness(function)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(v1)));
            h.setProcessingTime(100);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(v2)));
            assertThat(function.modelVersions()).containsExactly(v1.version(), v2.version());

            h.setProcessingTime(900);
            h.processElement1(new StreamRecord<>(task(0, v1))); // v1 still in use
            h.setProcessingTime(901);
            h.setProcessingTime(1_500);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(v3)));
            // v2 was superseded and no task named it for 1.4 s: dropped; v1 was named 0.6 s ago.
            assertThat(function.modelVersions()).containsExactly(v1.version(), v3.version());

            h.setProcessingTime(3_000);
            h.processElement1(new StreamRecord<>(task(1, v2)));
            h.setProcessingTime(3_001);
            assertThat(function.modelVersions()).containsExactly(v3.version());
            // A task naming a dropped version is decided under the newest, and says so.
            assertThat(h.extractOutputValues())
                    .extracting(v -> v.imageId + " " + v.modelVersion)
                    .containsExactly("0 " + v1.version(), "1 " + v3.version());
            // A version never seen is still on its way: its task waits.
            h.processElement1(new StreamRecord<>(task(2, Fixtures.randomMlp(4, 784, 10, 10))));
            h.setProcessingTime(3_002);
            assertThat(h.extractOutputValues()).hasSize(2);
            assertThat(h.numKeyedStateEntries()).isEqualTo(1);
        }
    }

    @Test
    void shouldRestoreItsModelsFromACheckpointWithoutThemBeingSentAgain() throws Exception {
        Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
        OperatorSubtaskState snapshot;
        try (var h = harness(boxBatches(32, 0))) {
            h.open();
            h.setProcessingTime(0);
            // Copies from two key groups of this instance: the second is recognised as a copy.
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            snapshot = h.snapshot(1, 0);
        }
        BoundFunction restored = boxBatches(32, 0);
        try (var h = harness(restored)) {
            h.initializeState(snapshot);
            h.open();
            h.setProcessingTime(0);
            assertThat(restored.modelVersions()).containsExactly(mlp.version());
            h.processElement1(new StreamRecord<>(task(0, mlp)));
            h.setProcessingTime(1);
            assertThat(h.extractOutputValues()).hasSize(1);
        }
    }

    @Test
    void shouldBoundAFullBatchInOneEngineCallAndEmitEachVerdictAtItsOwnTimer() throws Exception {
        Network mlp = Fixtures.defaultModel();
        BoundFunction function =
                new BoundFunction(
                        "crown",
                        null,
                        -1,
                        new BoundFunction.Batching(4, 1_000, 60_000),
                        200,
                        60_000);
        try (var h = harness(function)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            double[] eps = {0.005, 0.01, 0.02, 0.03};
            for (int i = 0; i < 4; i++) {
                h.setProcessingTime(i);
                h.processElement1(
                        new StreamRecord<>(
                                new VerificationTask(
                                        PipelineFixtures.image("r", i, 4), eps[i], mlp.version())));
                // Bounded as soon as the batch is full, not before.
                assertThat(function.engineCalls()).isEqualTo(i < 3 ? 0 : 1);
            }
            // Each decision leaves with its task's state, at its key's timer.
            assertThat(h.extractOutputValues()).isEmpty();
            h.setProcessingTime(1_001);
            assertThat(h.extractOutputValues()).extracting(v -> v.imageId).containsExactly(0L, 1L);
            h.setProcessingTime(1_003);
            List<VerdictEvent> out = h.extractOutputValues();
            assertThat(out).hasSize(4);
            assertThat(h.numKeyedStateEntries()).isZero();
            assertThat(function.engineCalls()).isEqualTo(1);
            Certifier crown = Certifier.of("crown", mlp);
            for (int i = 0; i < 4; i++) {
                Certifier.Result expected =
                        crown.certifyGrid(
                                        Fixtures.mnistTest().pixels(i),
                                        new int[] {Fixtures.mnistTest().label(i)},
                                        new double[] {eps[i]})[0][0];
                assertThat(out.get(i).verdict).isEqualTo(expected.verdict());
                // Batched products sum in another order: equal up to rounding.
                assertThat(out.get(i).marginLowerBound)
                        .isCloseTo(expected.marginLowerBound(), within(1e-9));
                assertThat(out.get(i).method).isEqualTo("crown");
            }
        }
    }

    @Test
    void shouldBoundAPartialBatchWhenItsFirstTaskHasWaitedTheLatency() throws Exception {
        Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
        BoundFunction function = boxBatches(100, 50);
        try (var h = harness(function)) {
            h.open();
            h.setProcessingTime(0);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            h.processElement1(new StreamRecord<>(task(0, mlp)));
            h.setProcessingTime(30);
            h.processElement1(new StreamRecord<>(task(1, mlp)));
            h.setProcessingTime(49);
            assertThat(h.extractOutputValues()).isEmpty();
            h.setProcessingTime(50);
            // Both tasks were bounded together; the second leaves at its own timer.
            assertThat(function.engineCalls()).isEqualTo(1);
            assertThat(h.extractOutputValues()).hasSize(1);
            h.setProcessingTime(80);
            assertThat(h.extractOutputValues()).hasSize(2);
            assertThat(function.engineCalls()).isEqualTo(1);
        }
    }

    @Test
    void shouldDecideEveryQueuedTaskOnceAfterARestore() throws Exception {
        Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
        OperatorSubtaskState snapshot;
        try (var h = harness(boxBatches(100, 1_000))) {
            h.open();
            h.setProcessingTime(0);
            h.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            for (int i = 0; i < 3; i++) {
                h.processElement1(new StreamRecord<>(task(i, mlp)));
            }
            assertThat(h.extractOutputValues()).isEmpty();
            snapshot = h.snapshot(1, 0);
        }
        BoundFunction restored = boxBatches(100, 1_000);
        try (var h = harness(restored)) {
            h.initializeState(snapshot);
            h.open();
            h.setProcessingTime(0);
            h.processElement1(new StreamRecord<>(task(3, mlp)));
            h.setProcessingTime(1_000);
            // The three restored tasks are decided alone (their batch was lost), the new one in
            // its batch; each exactly once.
            assertThat(h.extractOutputValues())
                    .extracting(v -> v.imageId)
                    .containsExactlyInAnyOrder(0L, 1L, 2L, 3L);
            assertThat(restored.engineCalls()).isEqualTo(4);
            assertThat(h.numKeyedStateEntries()).isZero();
        }
    }
}
