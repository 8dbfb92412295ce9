package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.KeyedTwoInputStreamOperatorTestHarness;

import org.junit.jupiter.api.Test;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.PropertyTask;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PropertyModelJoinTest {
    private static KeyedTwoInputStreamOperatorTestHarness<
                    String, PropertyTask, ModelEvent, PropertyTask>
            harness() throws Exception {
        var harness =
                new KeyedTwoInputStreamOperatorTestHarness<>(
                        new CoBroadcastWithKeyedOperator<>(
                                new PropertyModelJoin(1_000), List.of(PropertyModelJoin.MODELS)),
                        (PropertyTask t) -> t.modelVersion,
                        null,
                        Types.STRING);
        harness.open();
        return harness;
    }

    @SuppressWarnings("unchecked")
    private static List<PropertyTask> out(
            KeyedTwoInputStreamOperatorTestHarness<String, PropertyTask, ModelEvent, PropertyTask>
                    harness) {
        return harness.getOutput().stream()
                .filter(StreamRecord.class::isInstance)
                .map(r -> ((StreamRecord<PropertyTask>) r).getValue())
                .toList();
    }

    static PropertyTask task(String id, String version) {
        return new PropertyTask("s", id, version, "(declare-const X_0 Real)", 1000, 3);
    }

    @Test
    void shouldHoldPropertiesUntilTheirModelArrivesAndThenAttachIt() throws Exception {
        Network a = Fixtures.randomMlp(1, 4, 3, 2);
        Network b = Fixtures.randomMlp(2, 4, 3, 2);
        ModelEvent modelA = PipelineFixtures.modelEvent(a);
        try (var harness = harness()) {
            harness.processElement1(new StreamRecord<>(task("p1", a.version())));
            harness.processElement1(new StreamRecord<>(task("p2", b.version())));
            assertThat(out(harness)).isEmpty();
            assertThat(harness.numKeyedStateEntries()).isEqualTo(2);

            // Model a releases p1 only; p2 keeps waiting for model b.
            harness.processElement2(new StreamRecord<>(modelA));
            assertThat(out(harness)).extracting(t -> t.propertyId).containsExactly("p1");
            assertThat(out(harness).get(0).snapshot).isEqualTo(modelA.snapshot);
            assertThat(harness.numKeyedStateEntries()).isEqualTo(1);

            // A later property of a known model passes at once.
            harness.processElement1(new StreamRecord<>(task("p3", a.version())));
            assertThat(out(harness)).extracting(t -> t.propertyId).containsExactly("p1", "p3");
        }
    }

    @Test
    void shouldAnswerErrorForAPropertyWhoseModelNeverArrives() throws Exception {
        Network a = Fixtures.randomMlp(1, 4, 3, 2);
        Network b = Fixtures.randomMlp(2, 4, 3, 2);
        try (var harness = harness()) {
            harness.setProcessingTime(0);
            harness.processElement1(new StreamRecord<>(task("p1", a.version())));
            harness.setProcessingTime(500);
            harness.processElement1(new StreamRecord<>(task("p2", b.version())));
            harness.processElement2(new StreamRecord<>(PipelineFixtures.modelEvent(b)));
            harness.setProcessingTime(999);
            assertThat(out(harness)).extracting(t -> t.propertyId).containsExactly("p2");
            harness.setProcessingTime(1_000);
            // p1's model never came: it leaves with the reason, and nothing waits any more.
            assertThat(out(harness)).extracting(t -> t.propertyId).containsExactly("p2", "p1");
            assertThat(out(harness).get(1).error).contains(a.version()).contains("did not arrive");
            assertThat(out(harness).get(0).error).isNull();
            harness.setProcessingTime(2_000);
            assertThat(out(harness)).hasSize(2);
        }
    }
}
