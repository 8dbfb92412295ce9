package org.robustflow.milp;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.model.onnx.OnnxImporter;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.OnnxFixtures;

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
     * A normalisation layer (x - shift) in front of z = x, logit0 = 0.01 - relu(z), logit1 = 0.
     * With shift 0.9 the class changes for x &gt; 0.91; with shift 1 never. An encoding that
     * skipped the element-wise layer would solve another network (falsifiable for x &gt; 0.01, so
     * its candidates fail the re-check and the answer is UNKNOWN in both cases). The margin is left
     * unproven so the MILP is asked.
     */
    @Test
    void shouldEncodeANormalisationLayer() {
        for (double shift : new double[] {0.9, 1.0}) {
            Network normalised =
                    new Network(
                            List.of(
                                    new ElementwiseAffineLayer(
                                            new double[] {1}, new double[] {-shift}),
                                    new DenseLayer(new double[][] {{1}}, new double[] {0}),
                                    new ReluLayer(1),
                                    new DenseLayer(
                                            new double[][] {{-1}, {0}}, new double[] {0.01, 0})));
            double[] x = {0.5};
            double[][] box = InputBox.of(x, 0.5);
            CrownPropagator.RowBounds sound =
                    new CrownPropagator(normalised).bound(box[0], box[1], 0);
            CrownPropagator.RowBounds unproven =
                    new CrownPropagator.RowBounds(
                            sound.hiddenPreActivations(),
                            new double[] {Double.POSITIVE_INFINITY, -1},
                            sound.unstableRelus());
            for (ScipMilpVerifier.Formulation f : ScipMilpVerifier.Formulation.values()) {
                MilpResult r =
                        new ScipMilpVerifier(f, "SCIP")
                                .verify(normalised, x, 0, 0.5, unproven, 10_000);
                if (shift == 0.9) {
                    assertThat(r.verdict()).as("%s %s", f, shift).isEqualTo(Verdict.FALSIFIED);
                    assertThat(r.witness()[0]).isGreaterThan(0.91);
                } else {
                    assertThat(r.verdict()).as("%s %s", f, shift).isEqualTo(Verdict.CERTIFIED);
                }
            }
        }
    }

    /**
     * A net with input normalisation (Sub/Div in ONNX, imported) computes the same function as the
     * MLP it was folded from; the MILP must give both the same answers (only a near-tie may stay
     * UNKNOWN on one side, since the two round differently).
     */
    @Test
    void shouldAgreeBetweenANormalisedNetAndTheFoldedMlp() {
        Network mlp = Fixtures.randomMlp(7, 6, 10, 10, 3);
        Network normalised =
                OnnxImporter.parse(OnnxFixtures.normalised(mlp).toByteArray(), "norm.onnx");
        assertThat(normalised.layers().get(0)).isInstanceOf(ElementwiseAffineLayer.class);
        Random random = new Random(2);
        int certified = 0;
        int falsified = 0;
        int unknownOnOneSide = 0;
        for (int trial = 0; trial < 30; trial++) {
            double[] x = new double[6];
            for (int k = 0; k < x.length; k++) {
                x[k] = random.nextDouble();
            }
            int label = mlp.predict(x);
            double eps = 0.02 + 0.1 * random.nextDouble();
            double[][] box = InputBox.of(x, eps);
            MilpResult folded =
                    new ScipMilpVerifier()
                            .verify(
                                    mlp,
                                    x,
                                    label,
                                    eps,
                                    new CrownPropagator(mlp).bound(box[0], box[1], label),
                                    10_000);
            MilpResult withNorm =
                    new ScipMilpVerifier()
                            .verify(
                                    normalised,
                                    x,
                                    label,
                                    eps,
                                    new CrownPropagator(normalised).bound(box[0], box[1], label),
                                    10_000);
            if (folded.verdict() != withNorm.verdict()) {
                assertThat(List.of(folded.verdict(), withNorm.verdict())).contains(Verdict.UNKNOWN);
                unknownOnOneSide++;
            }
            certified += withNorm.verdict() == Verdict.CERTIFIED ? 1 : 0;
            if (withNorm.verdict() == Verdict.FALSIFIED) {
                falsified++;
                assertThat(InputBox.contains(x, eps, withNorm.witness(), 0)).isTrue();
                assertThat(normalised.predict(withNorm.witness())).isNotEqualTo(label);
            }
        }
        assertThat(certified).isPositive();
        assertThat(falsified).isPositive();
        assertThat(unknownOnOneSide).isLessThanOrEqualTo(1);
    }

    /**
     * Brute force on a normalised net with two inputs: the margin on a 401 x 401 grid of the box,
     * with the Lipschitz constant L of the margin bounding what the grid can miss (every point lies
     * within h/2 of a grid point in the max-norm, h the spacing). A grid point with a negative
     * margin must make FALSIFIED; a grid minimum above L h / 2 must make CERTIFIED.
     */
    @Test
    void shouldMatchBruteForceOnATinyNormalisedNet() {
        Network mlp = Fixtures.randomMlp(11, 2, 6, 6, 3);
        Network net = OnnxImporter.parse(OnnxFixtures.normalised(mlp).toByteArray(), "n.onnx");
        double lipschitz = 2; // margin = logit_y - logit_j: |e_y - e_j| sums to 2
        for (Layer layer : net.layers()) {
            double norm = 0; // the max-norm's operator norm: largest row sum of |W|
            if (layer instanceof DenseLayer d) {
                for (int o = 0; o < d.outputSize(); o++) {
                    double row = 0;
                    for (int i = 0; i < d.inputSize(); i++) {
                        row += Math.abs(d.weight(o, i));
                    }
                    norm = Math.max(norm, row);
                }
            } else if (layer instanceof ElementwiseAffineLayer a) {
                for (int i = 0; i < a.inputSize(); i++) {
                    norm = Math.max(norm, Math.abs(a.scale(i)));
                }
            } else {
                norm = 1;
            }
            lipschitz *= norm;
        }
        Random random = new Random(5);
        int certified = 0;
        int falsified = 0;
        for (int trial = 0; trial < 40; trial++) {
            double[] x = {random.nextDouble(), random.nextDouble()};
            int label = net.predict(x);
            double eps = 0.05 + 0.2 * random.nextDouble();
            double[][] box = InputBox.of(x, eps);
            double lo0 = Math.max(0, x[0] - eps);
            double lo1 = Math.max(0, x[1] - eps);
            double h0 = (Math.min(1, x[0] + eps) - lo0) / 400;
            double h1 = (Math.min(1, x[1] + eps) - lo1) / 400;
            double gridMin = Double.POSITIVE_INFINITY;
            for (int a = 0; a <= 400; a++) {
                for (int b = 0; b <= 400; b++) {
                    double[] logits = net.logits(new double[] {lo0 + a * h0, lo1 + b * h1});
                    for (int j = 0; j < logits.length; j++) {
                        if (j != label) {
                            gridMin = Math.min(gridMin, logits[label] - logits[j]);
                        }
                    }
                }
            }
            MilpResult r =
                    new ScipMilpVerifier()
                            .verify(
                                    net,
                                    x,
                                    label,
                                    eps,
                                    new CrownPropagator(net).bound(box[0], box[1], label),
                                    10_000);
            if (gridMin < -1e-9) {
                assertThat(r.verdict()).as("trial %d", trial).isEqualTo(Verdict.FALSIFIED);
                falsified++;
            } else if (gridMin > lipschitz * Math.max(h0, h1) / 2) {
                assertThat(r.verdict()).as("trial %d", trial).isEqualTo(Verdict.CERTIFIED);
                certified++;
            }
        }
        assertThat(certified).isPositive();
        assertThat(falsified).isPositive();
    }

    /**
     * Per-neuron bounds of another box contradict this box's own bounds: encoded, they would make
     * the MILP infeasible and so "certify" anything. z = x on x in [0, 0.1] with bounds [0.5, 0.6]
     * for z: the MILP must refuse, not certify a margin that fails at x = 0.1.
     */
    @Test
    void shouldNotCertifyWithBoundsOfAnotherBox() {
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(new double[][] {{1}}, new double[] {0}),
                                new DenseLayer(
                                        new double[][] {{-1}, {0}}, new double[] {0.05, 0})));
        double[] x = {0.05};
        double eps = 0.05;
        CrownPropagator.RowBounds foreign =
                new CrownPropagator.RowBounds(
                        List.<double[][]>of(new double[][] {{0.5}, {0.6}}),
                        new double[] {Double.POSITIVE_INFINITY, -1},
                        0);
        MilpResult r = new ScipMilpVerifier().verify(mlp, x, 0, eps, foreign, 10_000);
        assertThat(r.verdict()).isEqualTo(Verdict.UNKNOWN);
        assertThat(r.detail()).contains("belong to another box");
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
