package org.robustflow.verify;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.robustflow.spec.Property;
import org.robustflow.testutils.Fixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PropertyVerifierTest {
    @Test
    void shouldProveSmallBoxesAndRefuteLargeOnesOnRealImages() {
        Network net = Fixtures.defaultModel();
        MnistDataset test = Fixtures.mnistTest();
        PropertyVerifier verifier = new PropertyVerifier(net, Pgd.Settings.defaults());
        int unsat = 0;
        int sat = 0;
        for (int i = 0; i < 20; i++) {
            double[] x = test.pixels(i);
            int label = test.label(i);
            if (net.predict(x) != label) {
                continue;
            }
            OutputSpec violation = OutputSpec.robustness(10, label);
            Property small =
                    new Property(List.of(new Property.Region(Box.around(x, 0.002), violation)));
            PropertyVerifier.Result r = verifier.verify(small, 10_000);
            assertThat(r.outcome()).isEqualTo(PropertyVerifier.Outcome.UNSAT);
            unsat++;

            Box large = Box.around(x, 0.2);
            Property big = new Property(List.of(new Property.Region(large, violation)));
            PropertyVerifier.Result s = verifier.verify(big, 10_000);
            assertThat(s.outcome()).isEqualTo(PropertyVerifier.Outcome.SAT);
            assertThat(large.contains(s.counterexample())).isTrue();
            assertThat(Witnesses.isCounterexample(net, large, violation, s.counterexample()))
                    .isTrue();
            assertThat(net.predict(s.counterexample())).isNotEqualTo(label);
            sat++;
        }
        assertThat(unsat).isGreaterThanOrEqualTo(18);
        assertThat(sat).isEqualTo(unsat);
    }

    @Test
    void shouldNeverProveWhatTheAttackRefutes() {
        Network net = Fixtures.defaultModel();
        MnistDataset test = Fixtures.mnistTest();
        PropertyVerifier verifier = new PropertyVerifier(net, Pgd.Settings.defaults());
        int refuted = 0;
        for (int i = 0; i < 100; i++) {
            double[] x = test.pixels(i);
            OutputSpec violation = OutputSpec.robustness(10, test.label(i));
            Box box = Box.around(x, 0.03);
            var witness = new Pgd(net, Pgd.Settings.defaults()).attack(box, violation);
            if (witness.isPresent()) {
                refuted++;
                assertThat(verifier.proves(box, violation)).isFalse();
            }
        }
        assertThat(refuted).isGreaterThan(10);
    }

    @Test
    void shouldWriteTheCounterexampleInVnnCompFormat() {
        assertThat(PropertyVerifier.counterexample(new double[] {0.5, 0.25}, new double[] {1.5}))
                .isEqualTo("((X_0 0.5)\n (X_1 0.25)\n (Y_0 1.5))");
    }
}
