package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.operators.co.CoBroadcastWithKeyedOperator;
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

class BoundFunctionTest {
    @Test
    void shouldDecideTasksLikeTheOfflineCertifierAndWaitForTheirModel() throws Exception {
        Network mlp = Fixtures.defaultModel();
        try (var h =
                new KeyedTwoInputStreamOperatorTestHarness<
                        String, VerificationTask, ModelEvent, VerdictEvent>(
                        new CoBroadcastWithKeyedOperator<>(
                                new BoundFunction("box", null, -1, 200),
                                List.of(ModelStates.MODELS)),
                        (VerificationTask t) -> t.runId + "/" + t.imageId + "/" + t.eps,
                        null,
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
}
