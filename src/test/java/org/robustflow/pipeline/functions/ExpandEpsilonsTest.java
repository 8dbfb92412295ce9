package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.KeyedCoProcessOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;

import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.assertj.core.api.Assertions.assertThat;

class ExpandEpsilonsTest {
    private static final double[] EPS = {0.01, 0.02, 0.03};

    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, ImageEvent, ModelEvent, VerificationTask>
            harness() throws Exception {
        var harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new KeyedCoProcessOperator<>(new ExpandEpsilons(EPS, 784, 200)),
                        (ImageEvent image) -> image.runId + "/" + image.imageId,
                        (ModelEvent m) -> ModelFanout.routingKey(m),
                        Types.STRING);
        harness.open();
        harness.setProcessingTime(0);
        return harness;
    }

    @SuppressWarnings("unchecked")
    private static List<VerificationTask> tasks(ConcurrentLinkedQueue<Object> output) {
        return output.stream()
                .filter(StreamRecord.class::isInstance)
                .map(r -> ((StreamRecord<VerificationTask>) r).getValue())
                .toList();
    }

    @Test
    void shouldHoldImagesThatArriveBeforeAnyModelAndReleaseThemOnePerTimer() throws Exception {
        try (var harness = harness()) {
            harness.processElement1(new StreamRecord<>(PipelineFixtures.image("r", 0, 2)));
            harness.processElement1(new StreamRecord<>(PipelineFixtures.image("r", 1, 2)));
            assertThat(tasks(harness.getOutput())).isEmpty();
            assertThat(harness.numKeyedStateEntries()).isEqualTo(2);

            Network mlp = Fixtures.randomMlp(1, 784, 10, 10);
            harness.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(mlp)));
            // Nothing is released inside the broadcast call; each image's timer releases it.
            assertThat(tasks(harness.getOutput())).isEmpty();
            assertThat(harness.numProcessingTimeTimers()).isEqualTo(2);
            harness.setProcessingTime(200);
            List<VerificationTask> tasks = tasks(harness.getOutput());
            assertThat(tasks).hasSize(6);
            assertThat(tasks).extracting(t -> t.modelVersion).containsOnly(mlp.version());
            assertThat(tasks)
                    .extracting(t -> t.eps)
                    .containsExactlyInAnyOrder(0.01, 0.02, 0.03, 0.01, 0.02, 0.03);
            assertThat(harness.numKeyedStateEntries()).isZero();
        }
    }

    @Test
    void shouldApplyANewModelVersionToLaterImagesOnly() throws Exception {
        try (var harness = harness()) {
            Network first = Fixtures.randomMlp(1, 784, 10, 10);
            Network second = Fixtures.randomMlp(2, 784, 10, 10);
            harness.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(first)));
            harness.processElement1(new StreamRecord<>(PipelineFixtures.image("r", 0, 2)));
            harness.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(second)));
            harness.processElement1(new StreamRecord<>(PipelineFixtures.image("r", 1, 2)));
            List<VerificationTask> tasks = tasks(harness.getOutput());
            assertThat(tasks)
                    .filteredOn(t -> t.imageId == 0)
                    .extracting(t -> t.modelVersion)
                    .containsOnly(first.version());
            assertThat(tasks)
                    .filteredOn(t -> t.imageId == 1)
                    .extracting(t -> t.modelVersion)
                    .containsOnly(second.version());
        }
    }

    @Test
    void shouldSendAModelOfTheWrongShapeToDeadLetters() throws Exception {
        try (var harness = harness()) {
            harness.processElement2(
                    new StreamRecord<>(
                            PipelineFixtures.modelEvent(Fixtures.randomMlp(1, 100, 10, 10))));
            harness.processElement2(
                    new StreamRecord<>(new ModelEvent("v-junk", new byte[] {1, 2, 3})));
            harness.processElement1(new StreamRecord<>(PipelineFixtures.image("r", 0, 1)));
            assertThat(tasks(harness.getOutput())).isEmpty();
            List<DeadLetterEvent> dead =
                    harness.getSideOutput(ModelStates.DEAD_LETTERS).stream()
                            .map(StreamRecord::getValue)
                            .toList();
            assertThat(dead).hasSize(2);
            assertThat(dead.get(0).reason).contains("takes 100 inputs");
            assertThat(dead.get(1).reason).contains("undecodable model");
            assertThat(dead.get(1).payload).containsExactly(1, 2, 3);
        }
    }
}
