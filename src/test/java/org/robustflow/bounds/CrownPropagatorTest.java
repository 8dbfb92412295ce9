package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.ExactArithmetic;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.ReferenceCrown;
import org.robustflow.testutils.ReferenceIntervalPropagation;

import java.math.BigDecimal;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class CrownPropagatorTest {
    @Test
    void shouldMatchHandComputedMarginWhereBoxIsLoose() {
        // h1 = relu(x + 0.1), h2 = relu(x - 0.5), logits (h1 - h2, 0), x in [0, 1]. h1 is stable.
        // h2 is unstable on [-0.5, 0.5]: upper line 0.5 z + 0.25, lower slope 0 (u > -l fails).
        // Margin for label 0 = h1 - h2 >= x + 0.1 - (0.5 (x - 0.5) + 0.25) = 0.5 x + 0.1, minimum
        // 0.1.
        // Box: h1 in [0.1, 1.1], h2 in [0, 0.5], so only -0.4.
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(new double[][] {{1}, {1}}, new double[] {0.1, -0.5}),
                                new DenseLayer(
                                        new double[][] {{1, -1}, {0, 0}}, new double[] {0, 0})));
        CrownPropagator.RowBounds b =
                new CrownPropagator(mlp).bound(new double[] {0}, new double[] {1}, 0);
        assertThat(b.marginLower()[1]).isCloseTo(0.1, within(1e-9));
        assertThat(b.marginLower()[0]).isEqualTo(Double.POSITIVE_INFINITY);
        assertThat(b.unstableRelus()).isEqualTo(1);
        double[][] box =
                new BoundPropagator(mlp)
                        .logits(new Interval(new double[] {0}, new double[] {1}, 1, 1))
                        .row(0);
        assertThat(box[0][0] - box[1][1]).isCloseTo(-0.4, within(1e-9));
    }

    @Test
    void shouldFoldTheMarginIntoTheLastLayerWhereTheReluRelaxationIsLoose() {
        // h1 = relu(3x - 1) on [-1, 2] (lower slope 1, as u > -l), h2 = relu(x) = x; logits
        // (h1 + h2, h2), x in [0, 1]. Margin for label 0 = h1 >= 0, reached for x <= 1/3.
        // CROWN: h1 >= 3x - 1 >= -1. Box: [0, 3] - [0, 1] = -1. Folded: min h1 over [0, 2] = 0.
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(new double[][] {{3}, {1}}, new double[] {-1, 0}),
                                new DenseLayer(
                                        new double[][] {{1, 1}, {0, 1}}, new double[] {0, 0})));
        double margin =
                new CrownPropagator(mlp)
                        .bound(new double[] {0}, new double[] {1}, 0)
                        .marginLower()[1];
        assertThat(margin).isLessThanOrEqualTo(0).isGreaterThan(-1e-12);
    }

    @Test
    void shouldMatchHandComputedHiddenBoundsThroughTwoReluLayers() {
        // z1 = (x1 + x2 - 0.5, x1 - x2) on [0,1]^2: [-0.5, 1.5] (slope a = 1, s = 0.75, t = 0.375)
        // and
        // [-1, 1] (a = 0, s = 0.5, t = 0.5). Layer 2: z = h1 - h2.
        // lower: h1 >= z1_1, -h2 >= -(0.5 z1_2 + 0.5): x1 + x2 - 0.5 - 0.5 x1 + 0.5 x2 - 0.5 = 0.5
        // x1 + 1.5 x2 - 1 -> -1
        // upper: h1 <= 0.75 z1_1 + 0.375, -h2 <= 0: 0.75 x1 + 0.75 x2 - 0.375 + 0.375 -> 1.5
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(
                                        new double[][] {{1, 1}, {1, -1}}, new double[] {-0.5, 0}),
                                new DenseLayer(new double[][] {{1, -1}}, new double[] {0}),
                                new DenseLayer(new double[][] {{1}, {-1}}, new double[] {0, 0})));
        CrownPropagator.RowBounds b =
                new CrownPropagator(mlp).bound(new double[] {0, 0}, new double[] {1, 1}, 0);
        double[][] layer2 = b.hiddenPreActivations().get(1);
        assertThat(layer2[0][0]).isCloseTo(-1.0, within(1e-9));
        assertThat(layer2[1][0]).isCloseTo(1.5, within(1e-9));
    }

    @ParameterizedTest
    @ValueSource(doubles = {0.005, 0.01, 0.02, 0.05})
    void shouldContainSampledPointsOfRealEpsBoxes(double eps) {
        Network mlp = Fixtures.defaultModel();
        CrownPropagator crown = new CrownPropagator(mlp);
        Random random = new Random(42);
        for (int image = 0; image < 3; image++) {
            double[] x = Fixtures.mnistTest().pixels(image);
            int label = Fixtures.mnistTest().label(image);
            double[][] inputBox = InputBox.of(x, eps);
            CrownPropagator.RowBounds b = crown.bound(inputBox[0], inputBox[1], label);
            for (int s = 0; s < 1000; s++) {
                double[] p = new double[784];
                for (int k = 0; k < 784; k++) {
                    double lo = Math.max(0, x[k] - eps);
                    double hi = Math.min(1, x[k] + eps);
                    double t = s < 800 ? random.nextDouble() : (random.nextBoolean() ? 1 : 0);
                    p[k] = lo + t * (hi - lo);
                }
                double[] h = p;
                List<DenseLayer> layers = mlp.denseLayers();
                for (int l = 0; l < layers.size() - 1; l++) {
                    double[] z = layers.get(l).forward(h);
                    double[][] c = b.hiddenPreActivations().get(l);
                    for (int k = 0; k < z.length; k++) {
                        assertThat(z[k]).isBetween(c[0][k], c[1][k]);
                    }
                    h = new org.robustflow.model.ReluLayer(z.length).forward(z);
                }
                double[] logits = layers.get(layers.size() - 1).forward(h);
                for (int j = 0; j < logits.length; j++) {
                    if (j != label) {
                        assertThat(logits[label] - logits[j])
                                .isGreaterThanOrEqualTo(b.marginLower()[j]);
                    }
                }
            }
        }
    }

    /**
     * A network whose ReLUs are all active on [0,1]^n (large positive biases): on the box it is one
     * affine map, so CROWN (with slope 1 everywhere) is exact and its bounds must contain the exact
     * range, computed in BigDecimal, and reach it up to rounding. Box bounds are far looser there,
     * so what is checked is CROWN's own bound, not its intersection with the box.
     */
    @Test
    void shouldContainAndReachTheExactRangeOfANetworkWhoseReluAreAllActive() {
        Random random = new Random(31);
        int crownTighterThanBox = 0;
        int checked = 0;
        int marginsChecked = 0;
        for (int net = 0; net < 10; net++) {
            Network mlp = activeNetwork(random, 5, 7, 6, 4);
            for (int trial = 0; trial < 3; trial++) {
                double eps = new double[] {0.05, 0.2, 0.5}[trial];
                double[] lower = new double[5];
                double[] upper = new double[5];
                for (int k = 0; k < 5; k++) {
                    double x = random.nextDouble();
                    lower[k] = Math.max(0, x - eps);
                    upper[k] = Math.min(1, x + eps);
                }
                // Precondition: every hidden neuron is active on the whole box.
                List<BigDecimal[][]> exactBox = ExactArithmetic.preActivations(mlp, lower, upper);
                for (int l = 0; l < exactBox.size() - 1; l++) {
                    for (BigDecimal v : exactBox.get(l)[0]) {
                        assertThat(v.signum()).as("hidden lower bound > 0").isPositive();
                    }
                }
                int label = trial % mlp.numClasses();
                CrownPropagator.RowBounds b = new CrownPropagator(mlp).bound(lower, upper, label);
                List<Interval> box =
                        new BoundPropagator(mlp)
                                .preActivations(new Interval(lower, upper, 1, lower.length));

                // Hidden layers after the first (the first is the box itself).
                for (int l = 1; l < b.hiddenPreActivations().size(); l++) {
                    BigDecimal[][][] affine = ExactArithmetic.composedAffine(mlp, l + 1);
                    double[][] c = b.hiddenPreActivations().get(l);
                    for (int k = 0; k < c[0].length; k++) {
                        BigDecimal min =
                                ExactArithmetic.minimum(
                                        affine[0][k], affine[1][0][k], lower, upper);
                        BigDecimal max =
                                ExactArithmetic.maximum(
                                        affine[0][k], affine[1][0][k], lower, upper);
                        assertThat(ExactArithmetic.exact(c[0][k]))
                                .as("net %d layer %d neuron %d: lower vs exact minimum", net, l, k)
                                .isLessThanOrEqualTo(min);
                        assertThat(ExactArithmetic.exact(c[1][k]))
                                .as("net %d layer %d neuron %d: upper vs exact maximum", net, l, k)
                                .isGreaterThanOrEqualTo(max);
                        // Neurons box already shows stable are not back-substituted (their
                        // relaxation is exact whatever their bounds): only containment here.
                        checked++;
                    }
                }

                // Margins logit_label - logit_j.
                BigDecimal[][][] logits = ExactArithmetic.composedAffine(mlp, 4 - 1);
                for (int j = 0; j < mlp.numClasses(); j++) {
                    if (j == label) {
                        continue;
                    }
                    BigDecimal[] a = new BigDecimal[5];
                    for (int k = 0; k < 5; k++) {
                        a[k] = logits[0][label][k].subtract(logits[0][j][k]);
                    }
                    BigDecimal min =
                            ExactArithmetic.minimum(
                                    a, logits[1][0][label].subtract(logits[1][0][j]), lower, upper);
                    assertThat(ExactArithmetic.exact(b.marginLower()[j]))
                            .as("net %d margin %d-%d: lower bound vs exact minimum", net, label, j)
                            .isLessThanOrEqualTo(min);
                    double scale = 1 + Math.abs(min.doubleValue());
                    assertThat(min.doubleValue() - b.marginLower()[j]).isLessThan(1e-9 * scale);
                    Interval out = box.get(box.size() - 1);
                    if (out.lower(0, label) - out.upper(0, j) < min.doubleValue() - 1e-6 * scale) {
                        crownTighterThanBox++;
                    }
                    checked++;
                    marginsChecked++;
                }
            }
        }
        assertThat(checked).isGreaterThan(250);
        assertThat(crownTighterThanBox)
                .as("margins where box is loose")
                .isGreaterThan(marginsChecked / 2);
    }

    /**
     * Random weights N(0, 1/fan_in) and biases large enough that every hidden pre-activation is
     * positive for inputs in [0,1]^n.
     */
    private static Network activeNetwork(Random random, int... widths) {
        List<DenseLayer> layers = new java.util.ArrayList<>();
        double inputMagnitude = 1;
        for (int l = 0; l + 1 < widths.length; l++) {
            double[][] w = new double[widths[l + 1]][widths[l]];
            double[] b = new double[widths[l + 1]];
            double next = 0;
            for (int o = 0; o < w.length; o++) {
                double rowSum = 0;
                for (int i = 0; i < w[o].length; i++) {
                    w[o][i] = random.nextGaussian() / Math.sqrt(widths[l]);
                    rowSum += Math.abs(w[o][i]);
                }
                boolean hidden = l + 2 < widths.length;
                b[o] =
                        hidden
                                ? rowSum * inputMagnitude + 0.5 + random.nextDouble()
                                : random.nextGaussian();
                next = Math.max(next, rowSum * inputMagnitude + Math.abs(b[o]));
            }
            inputMagnitude = next;
            layers.add(new DenseLayer(w, b));
        }
        return Network.mlp(layers);
    }

    /**
     * Against {@link ReferenceCrown}, an independent implementation, on real images: the production
     * margin equals the better of the reference's own CROWN margin (before any intersection with
     * box bounds) and the box margin, and CROWN's own bound is the better one on most pairs and
     * certifies pairs the box margin cannot.
     */
    @Test
    void shouldMatchAnIndependentCrownImplementationOnRealImages() {
        Network mlp = Fixtures.defaultModel();
        CrownPropagator crown = new CrownPropagator(mlp);
        int crownOwn = 0;
        int margins = 0;
        int certifiedOnlyByCrown = 0;
        for (int image = 0; image < 12; image++) {
            double[] x = Fixtures.mnistTest().pixels(image);
            int label = Fixtures.mnistTest().label(image);
            for (double eps : new double[] {0.005, 0.01, 0.02}) {
                double[][] inputBox = InputBox.of(x, eps);
                CrownPropagator.RowBounds b = crown.bound(inputBox[0], inputBox[1], label);
                ReferenceCrown.Bounds ref =
                        ReferenceCrown.bound(mlp, inputBox[0], inputBox[1], label);
                for (int l = 0; l < ref.hidden().size(); l++) {
                    double[][] expected = ref.hidden().get(l);
                    double[][] actual = b.hiddenPreActivations().get(l);
                    for (int k = 0; k < expected[0].length; k++) {
                        boolean unstable = actual[0][k] < 0 && actual[1][k] > 0;
                        if (!unstable) {
                            // Stable by box: not back-substituted (the relaxation is exact
                            // anyway); both intervals hold the true values, so they meet.
                            assertThat(actual[0][k]).isLessThanOrEqualTo(expected[1][k] + 1e-7);
                            assertThat(expected[0][k]).isLessThanOrEqualTo(actual[1][k] + 1e-7);
                            continue;
                        }
                        for (int side = 0; side < 2; side++) {
                            assertThat(actual[side][k])
                                    .as("image %d eps %s layer %d neuron %d", image, eps, l, k)
                                    .isCloseTo(
                                            expected[side][k],
                                            within(1e-7 * (1 + Math.abs(expected[side][k]))));
                        }
                    }
                }
                List<double[][]> ibp =
                        ReferenceIntervalPropagation.preActivations(mlp, inputBox[0], inputBox[1]);
                double[][] logits = ibp.get(ibp.size() - 1);
                boolean allCrown = true;
                boolean allBox = true;
                for (int j = 0; j < mlp.numClasses(); j++) {
                    if (j == label) {
                        continue;
                    }
                    double boxMargin = logits[0][label] - logits[1][j];
                    double crownMargin = ref.marginLower()[j];
                    assertThat(b.marginLower()[j])
                            .as("image %d eps %s margin %d-%d", image, eps, label, j)
                            .isCloseTo(
                                    Math.max(crownMargin, boxMargin),
                                    within(1e-7 * (1 + Math.abs(crownMargin))));
                    margins++;
                    crownOwn += crownMargin > boxMargin ? 1 : 0;
                    allCrown &= crownMargin > 0;
                    allBox &= boxMargin > 0;
                }
                if (allCrown && !allBox && mlp.predict(x) == label) {
                    certifiedOnlyByCrown++;
                }
            }
        }
        assertThat(crownOwn)
                .as("margins where CROWN's own bound is the better")
                .isGreaterThan(margins * 9 / 10);
        assertThat(certifiedOnlyByCrown).isPositive();
    }

    /**
     * A child subdomain bounded within its parent's ReLU input bounds: its spec rows and ReLU input
     * bounds hold on every sampled box point that obeys the child's decisions.
     */
    @Test
    void shouldBoundAChildWithinItsParentsBoundsOnEveryPointOfTheChild() {
        Random random = new Random(17);
        int checked = 0;
        for (int trial = 0; trial < 20; trial++) {
            Network net = Fixtures.randomMlp(40 + trial, 4, 12, 12, 3);
            CrownPropagator crown = new CrownPropagator(net);
            double[] lo = new double[4];
            double[] hi = new double[4];
            for (int k = 0; k < 4; k++) {
                lo[k] = random.nextDouble() - 1;
                hi[k] = lo[k] + random.nextDouble();
            }
            Interval box = new Interval(lo, hi, 1, 4);
            double[] c = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian()};
            org.robustflow.spec.OutputSpec[] spec = {
                new org.robustflow.spec.OutputSpec(
                        3, List.of(List.of(new org.robustflow.spec.LinearConstraint(c, 0))))
            };
            Splits parent = Splits.NONE.with(0, random.nextInt(12), 12, 1);
            CrownPropagator.SpecBounds p = crown.bound(box, spec, new Splits[] {parent})[0];
            Splits child = parent.with(2, random.nextInt(12), 12, random.nextBoolean() ? 1 : -1);
            CrownPropagator.SpecBounds b =
                    crown.boundWithin(
                                    box,
                                    spec,
                                    new Splits[] {child},
                                    List.of(p.hiddenPreActivations()))[0];
            for (int s = 0; s < 4000; s++) {
                double[] x = new double[4];
                for (int k = 0; k < 4; k++) {
                    x[k] = lo[k] + random.nextDouble() * (hi[k] - lo[k]);
                }
                double[] z1 = net.layers().get(0).forward(x);
                double[] z2 = net.layers().get(2).forward(net.layers().get(1).forward(z1));
                if (!(z1[parentNeuron(parent)] >= 0) || !obeys(child, z2)) {
                    continue;
                }
                double[] y = net.logits(x);
                assertThat(c[0] * y[0] + c[1] * y[1] + c[2] * y[2])
                        .isGreaterThanOrEqualTo(b.rowLower()[0]);
                for (int k = 0; k < 12; k++) {
                    assertThat(z2[k])
                            .isBetween(
                                    b.hiddenPreActivations().get(1)[0][k],
                                    b.hiddenPreActivations().get(1)[1][k]);
                }
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(5000);
    }

    private static int parentNeuron(Splits splits) {
        for (int k = 0; k < 12; k++) {
            if (splits.sign(0, k) != 0) {
                return k;
            }
        }
        throw new AssertionError("no decision");
    }

    private static boolean obeys(Splits splits, double[] z2) {
        for (int k = 0; k < z2.length; k++) {
            int sign = splits.sign(2, k);
            if ((sign > 0 && z2[k] < 0) || (sign < 0 && z2[k] > 0)) {
                return false;
            }
        }
        return true;
    }
}
