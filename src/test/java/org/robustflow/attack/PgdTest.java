package org.robustflow.attack;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class PgdTest {
    @Test
    void shouldFindRecheckedCounterexamplesAndNeverOnCertifiedPairs() {
        Network mlp = Fixtures.defaultModel();
        Pgd pgd = new Pgd(mlp, Pgd.Settings.defaults());
        CrownCertifier crown = new CrownCertifier(mlp);
        int found = 0;
        for (int i = 0; i < 30; i++) {
            double[] x = Fixtures.mnistTest().pixels(i);
            int label = Fixtures.mnistTest().label(i);
            for (double eps : new double[] {0.01, 0.05, 0.1}) {
                Optional<double[]> witness = pgd.attack(x, label, eps);
                Certifier.Result bound =
                        crown.certify(x, new int[] {label}, new int[] {0}, new double[] {eps})[0];
                if (witness.isPresent()) {
                    found++;
                    assertThat(InputBox.contains(x, eps, witness.get(), 1e-8)).isTrue();
                    assertThat(mlp.predict(witness.get())).isNotEqualTo(label);
                    assertThat(bound.verdict()).isNotEqualTo(Verdict.CERTIFIED);
                }
            }
        }
        assertThat(found).as("eps 0.1 breaks most of a normally trained net").isGreaterThan(20);
    }

    @Test
    void shouldReturnTheImageItselfWhenItIsAlreadyMisclassified() {
        Network mlp = Fixtures.defaultModel();
        for (int i = 0; i < 500; i++) {
            double[] x = Fixtures.mnistTest().pixels(i);
            int label = Fixtures.mnistTest().label(i);
            if (mlp.predict(x) != label) {
                assertThat(new Pgd(mlp, Pgd.Settings.defaults()).attack(x, label, 0.0)).hasValue(x);
                return;
            }
        }
    }
}
