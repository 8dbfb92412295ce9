package org.robustflow.pipeline.functions;

import org.junit.jupiter.api.Test;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.PropertyOutcome;
import org.robustflow.pipeline.records.PropertyTask;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;

import static org.assertj.core.api.Assertions.assertThat;
import static org.robustflow.pipeline.functions.PropertyModelJoinTest.task;

class PropertyCheckTest {
    @Test
    void shouldAnswerErrorForAPropertyThatDoesNotParseOrFitItsModel() {
        Network net = Fixtures.randomMlp(3, 4, 3, 2);
        PropertyCheck check = new PropertyCheck(1);
        check.open(null);
        PropertyTask garbage =
                task("bad", net.version()).withSnapshot(PipelineFixtures.modelEvent(net).snapshot);
        PropertyOutcome unparsed = check.decide(garbage);
        assertThat(unparsed.result).isEqualTo("error");
        assertThat(unparsed.method).contains("VnnlibException").contains("bad");
        PropertyTask wrongSize = task("wide", net.version());
        wrongSize.vnnlib =
                "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n"
                        + "(assert (>= X_0 0))\n(assert (<= X_0 1))\n(assert (<= Y_0 0))\n";
        PropertyOutcome outcome =
                check.decide(wrongSize.withSnapshot(PipelineFixtures.modelEvent(net).snapshot));
        assertThat(outcome.result).isEqualTo("error");
        assertThat(outcome.method).contains("property has 1 inputs, network takes 4");
        check.close();
    }
}
