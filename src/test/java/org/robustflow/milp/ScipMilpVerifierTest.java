package org.robustflow.milp;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class ScipMilpVerifierTest {
    @Test
    void shouldAgreeWithSamplingAndBetweenFormulationsOnASmallNet() {
        Network mlp = Fixtures.randomMlp(3, 6, 8, 8, 3);
        Random random = new Random(1);
        int certified = 0;
        int falsified = 0;
        int disagreements = 0;
        for (int trial = 0; trial < 30; trial++) {
            double[] x = new double[6];
            for (int k = 0; k < x.length; k++) {
                x[k] = random.nextDouble();
            }
            int label = mlp.predict(x);
            double eps = 0.02 + 0.1 * random.nextDouble();
            double[][] box = InputBox.of(x, eps);
            CrownPropagator.RowBounds bounds =
                    new CrownPropagator(mlp).bound(box[0], box[1], label);
            MilpResult feasibility =
                    new ScipMilpVerifier(ScipMilpVerifier.Formulation.FEASIBILITY, "SCIP")
                            .verify(mlp, x, label, eps, bounds, 10_000);
            MilpResult minimize =
                    new ScipMilpVerifier(ScipMilpVerifier.Formulation.MINIMIZE, "SCIP")
                            .verify(mlp, x, label, eps, bounds, 10_000);
            // Both are sound; they may differ only where one leaves a near-tie UNKNOWN.
            if (minimize.verdict() != feasibility.verdict()) {
                assertThat(java.util.List.of(minimize.verdict(), feasibility.verdict()))
                        .contains(Verdict.UNKNOWN);
                disagreements++;
            }
            if (feasibility.verdict() == Verdict.CERTIFIED) {
                certified++;
                for (int s = 0; s < 2000; s++) {
                    double[] p = new double[x.length];
                    for (int k = 0; k < p.length; k++) {
                        double lo = Math.max(0, x[k] - eps);
                        double hi = Math.min(1, x[k] + eps);
                        p[k] =
                                lo
                                        + (s % 2 == 0
                                                        ? random.nextDouble()
                                                        : (random.nextBoolean() ? 1 : 0))
                                                * (hi - lo);
                    }
                    assertThat(mlp.predict(p)).isEqualTo(label);
                }
            } else if (feasibility.verdict() == Verdict.FALSIFIED) {
                falsified++;
                assertThat(InputBox.contains(x, eps, feasibility.witness(), 1e-8)).isTrue();
                assertThat(mlp.predict(feasibility.witness()))
                        .isNotEqualTo(label)
                        .isEqualTo(feasibility.witnessClass());
            }
        }
        assertThat(certified).isPositive();
        assertThat(falsified).isPositive();
        assertThat(disagreements).isLessThanOrEqualTo(1);
    }

    @Test
    void shouldNeverCertifyWhatPgdBreaksOnRealMnist() {
        Network mlp = Fixtures.defaultModel();
        Pgd pgd = new Pgd(mlp, Pgd.Settings.defaults());
        int decided = 0;
        for (int i = 0; i < 40 && decided < 3; i++) {
            double[] x = Fixtures.mnistTest().pixels(i);
            int label = Fixtures.mnistTest().label(i);
            double eps = 0.015;
            double[][] box = InputBox.of(x, eps);
            CrownPropagator.RowBounds bounds =
                    new CrownPropagator(mlp).bound(box[0], box[1], label);
            double margin = java.util.Arrays.stream(bounds.marginLower()).min().getAsDouble();
            if (margin > 0 || bounds.unstableRelus() > 25 || mlp.predict(x) != label) {
                continue;
            }
            MilpResult r = new ScipMilpVerifier().verify(mlp, x, label, eps, bounds, 20_000);
            if (pgd.attack(x, label, eps).isPresent()) {
                assertThat(r.verdict()).isNotEqualTo(Verdict.CERTIFIED);
            }
            if (r.verdict() == Verdict.FALSIFIED) {
                assertThat(mlp.predict(r.witness())).isNotEqualTo(label);
                assertThat(InputBox.contains(x, eps, r.witness(), 1e-8)).isTrue();
            }
            if (r.verdict() == Verdict.CERTIFIED || r.verdict() == Verdict.FALSIFIED) {
                decided++;
            }
        }
        assertThat(decided).as("small MNIST queries decided by MILP").isPositive();
    }
}
