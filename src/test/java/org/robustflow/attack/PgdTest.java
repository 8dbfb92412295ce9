package org.robustflow.attack;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.List;
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
        int misclassified = 0;
        for (int i = 0; i < 500 && misclassified < 3; i++) {
            double[] x = Fixtures.mnistTest().pixels(i);
            int label = Fixtures.mnistTest().label(i);
            if (mlp.predict(x) != label) {
                misclassified++;
                assertThat(new Pgd(mlp, Pgd.Settings.defaults()).attack(x, label, 0.0)).hasValue(x);
            }
        }
        assertThat(misclassified).as("misclassified images among the first 500").isEqualTo(3);
    }

    @Test
    void shouldFindTheWitnessOfANetworkWithAKnownCounterexample() {
        // logit0 = 0.5 - x, logit1 = 0: class 0 at x = 0.3, class 1 for x > 0.5; reachable at
        // eps 0.25, not at eps 0.1.
        Network mlp =
                Network.mlp(
                        List.of(new DenseLayer(new double[][] {{-1}, {0}}, new double[] {0.5, 0})));
        Pgd pgd = new Pgd(mlp, Pgd.Settings.defaults());
        Optional<double[]> witness = pgd.attack(new double[] {0.3}, 0, 0.25);
        assertThat(witness).isPresent();
        assertThat(witness.get()[0]).isGreaterThan(0.5).isLessThanOrEqualTo(0.55);
        assertThat(pgd.attack(new double[] {0.3}, 0, 0.1)).isEmpty();
    }

    @Test
    void shouldNotReturnAMisclassifiedPointOutsideTheBox() {
        // A network that gives class 1 everywhere, and an image with a pixel above 1 (mis-scaled
        // input): its box [max(0, x-eps), min(1, x+eps)] is empty, so there is no witness, even
        // though the image itself and every point the attack tries are "misclassified".
        Network alwaysOne =
                Network.mlp(
                        List.of(
                                new DenseLayer(
                                        new double[][] {{0, 0}, {0, 0}}, new double[] {0, 1})));
        Pgd pgd = new Pgd(alwaysOne, new Pgd.Settings(10, 3, 0.1, 1L));
        for (double[] x : new double[][] {{0.5, 1.2}, {-0.3, 0.5}}) {
            assertThat(pgd.attack(x, 0, 0.01))
                    .as("image %s", java.util.Arrays.toString(x))
                    .isEmpty();
        }
        // 1 + 1e-6 at eps 0.01: the box [0.990001, 1] is not empty; a witness must lie in it.
        double[] slightlyOver = {1 + 1e-6, 0.5};
        Optional<double[]> w = pgd.attack(slightlyOver, 0, 0.01);
        assertThat(w).isPresent();
        assertThat(org.robustflow.spec.Box.around(slightlyOver, 0.01).contains(w.get())).isTrue();
        // The same with pixels in range: the image itself is the witness.
        assertThat(pgd.attack(new double[] {0.5, 1.0}, 0, 0.01)).hasValue(new double[] {0.5, 1.0});
    }

    /**
     * On pairs CROWN leaves open, the adaptive attack (targeted restarts, step schedule) finds at
     * least as many re-checked counterexamples as fixed steps with the same steps and restarts.
     */
    @Test
    void shouldFindAtLeastAsManyWithTargetedRestartsAndAStepSchedule() {
        Network mlp = Fixtures.defaultModel();
        Pgd fixed = new Pgd(mlp, new Pgd.Settings(60, 10, 0.1, 7L));
        Pgd adaptive = new Pgd(mlp, new Pgd.Settings(60, 10, 0.1, 7L, true));
        CrownCertifier crown = new CrownCertifier(mlp);
        int open = 0;
        int byFixed = 0;
        int byAdaptive = 0;
        for (int i = 0; i < 60; i++) {
            double[] x = Fixtures.mnistTest().pixels(i);
            int label = Fixtures.mnistTest().label(i);
            for (double eps : new double[] {0.03, 0.05}) {
                Certifier.Result bound =
                        crown.certify(x, new int[] {label}, new int[] {0}, new double[] {eps})[0];
                if (bound.verdict() != Verdict.UNKNOWN) {
                    continue;
                }
                open++;
                byFixed += fixed.attack(x, label, eps).isPresent() ? 1 : 0;
                Optional<double[]> w = adaptive.attack(x, label, eps);
                if (w.isPresent()) {
                    byAdaptive++;
                    assertThat(InputBox.contains(x, eps, w.get(), 1e-8)).isTrue();
                    assertThat(mlp.predict(w.get())).isNotEqualTo(label);
                }
            }
        }
        assertThat(open).isGreaterThan(30);
        assertThat(byAdaptive).isGreaterThanOrEqualTo(byFixed);
        System.out.printf(
                "open %d, fixed found %d, adaptive found %d%n", open, byFixed, byAdaptive);
    }
}
