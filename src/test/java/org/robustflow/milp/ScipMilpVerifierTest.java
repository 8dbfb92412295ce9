package org.robustflow.milp;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.List;
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

    /**
     * A normalisation layer (x - 0.9) in front: the dense encoding would skip it and solve another
     * network, so the MILP refuses (UNKNOWN with the reason) instead of answering.
     */
    @Test
    void shouldRefuseNetworksWithLayersItCannotEncode() {
        Network normalised =
                new Network(
                        List.of(
                                new org.robustflow.model.ElementwiseAffineLayer(
                                        new double[] {1}, new double[] {-0.9}),
                                new DenseLayer(new double[][] {{1}}, new double[] {0}),
                                new org.robustflow.model.ReluLayer(1),
                                new DenseLayer(
                                        new double[][] {{-1}, {0}}, new double[] {0.01, 0})));
        double[] x = {0.5};
        double[][] box = InputBox.of(x, 0.5);
        CrownPropagator.RowBounds bounds = new CrownPropagator(normalised).bound(box[0], box[1], 0);
        MilpResult r = new ScipMilpVerifier().verify(normalised, x, 0, 0.5, bounds, 10_000);
        assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
        assertThat(r.detail()).contains("dense/ReLU networks only");
    }

    /**
     * logit0 = relu(x) + 5e-7, logit1 = 0 on x in [0, 1]: the minimum margin is 5e-7 > 0, inside
     * the solver's slack (1e-6), so the MILP finds "counterexamples" that are ties at best. The
     * re-check in double must reject them: the pair is not FALSIFIED. The bounds passed are sound
     * but deliberately leave the margin unproven, so the MILP is asked.
     */
    @Test
    void shouldNotFalsifyWithACandidateThatDoesNotRecheck() {
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(new double[][] {{1}}, new double[] {0}),
                                new DenseLayer(new double[][] {{1}, {0}}, new double[] {5e-7, 0})));
        double[] x = {0.5};
        double eps = 0.5;
        double[][] box = InputBox.of(x, eps);
        CrownPropagator.RowBounds sound = new CrownPropagator(mlp).bound(box[0], box[1], 0);
        CrownPropagator.RowBounds unproven =
                new CrownPropagator.RowBounds(
                        sound.hiddenPreActivations(),
                        new double[] {Double.POSITIVE_INFINITY, -1},
                        sound.unstableRelus());
        for (ScipMilpVerifier.Formulation f : ScipMilpVerifier.Formulation.values()) {
            MilpResult r = new ScipMilpVerifier(f, "SCIP").verify(mlp, x, 0, eps, unproven, 10_000);
            assertThat(r.verdict()).as("%s", f).isEqualTo(Verdict.UNKNOWN);
            assertThat(r.witness()).as("%s", f).isNull();
        }
    }

    /**
     * z = 10 x - 5 in [-5, 5], logit0 = 4 - relu(z), logit1 = 0: class 0 at x = 0.5, class 1 for x
     * &gt; 0.9. A big-M of 1 (or any M &lt; 4) would cut off every counterexample and "certify";
     * big-M from the sound bounds keeps them.
     */
    @Test
    void shouldFalsifyAPairWhoseCounterexamplesNeedTheFullReluRange() {
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(new double[][] {{10}}, new double[] {-5}),
                                new DenseLayer(new double[][] {{-1}, {0}}, new double[] {4, 0})));
        double[] x = {0.5};
        double eps = 0.5;
        double[][] box = InputBox.of(x, eps);
        CrownPropagator.RowBounds bounds = new CrownPropagator(mlp).bound(box[0], box[1], 0);
        assertThat(bounds.marginLower()[1]).isNegative();
        for (ScipMilpVerifier.Formulation f : ScipMilpVerifier.Formulation.values()) {
            MilpResult r = new ScipMilpVerifier(f, "SCIP").verify(mlp, x, 0, eps, bounds, 10_000);
            assertThat(r.verdict()).as("%s", f).isEqualTo(Verdict.FALSIFIED);
            assertThat(r.witness()[0]).isGreaterThan(0.9);
            assertThat(mlp.predict(r.witness())).isEqualTo(1);
        }
    }
}
