package org.robustflow.bab;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Interval;
import org.robustflow.bounds.Splits;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.ReferenceCrown;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AlphaBetaCrownTest {
    /**
     * For any slopes in [0, 1] and beta &gt;= 0 (random ones, and the optimised ones) the bound
     * holds on every sampled point of the subdomain: the box points whose pre-activations obey the
     * split decisions.
     */
    @Test
    void shouldBoundTheRowOnTheSubdomainForAnyNonNegativeBeta() {
        Random random = new Random(3);
        int checkedPoints = 0;
        for (int trial = 0; trial < 30; trial++) {
            Network net = Fixtures.randomMlp(300 + trial, 3, 10, 10, 3);
            Box box = new Box(new double[] {-1, -1, -1}, new double[] {1, 1, 1});
            Splits splits = Splits.NONE;
            for (int s = 0; s < 4; s++) {
                int layer = random.nextBoolean() ? 0 : 2; // outputs of the two hidden dense layers
                splits = splits.with(layer, random.nextInt(10), 10, random.nextBoolean() ? 1 : -1);
            }
            double[] c = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian()};
            LinearConstraint row = new LinearConstraint(c, 0);
            CrownPropagator.SpecBounds b =
                    new CrownPropagator(net)
                            .bound(
                                    new Interval(box.lower(), box.upper(), 1, 3),
                                    new OutputSpec[] {new OutputSpec(3, List.of(List.of(row)))},
                                    new Splits[] {splits})[0];
            if (b.rowLower()[0] == Double.POSITIVE_INFINITY) {
                continue; // an empty subdomain: nothing to sample
            }
            AlphaBetaCrown.Multipliers start =
                    AlphaBetaCrown.Multipliers.initial(net).withBetaRow(0, 10).withBetaRow(2, 10);
            for (int k = 0; k < 10; k++) {
                start.beta[0][k] = 5 * random.nextDouble();
                start.beta[2][k] = 5 * random.nextDouble();
            }
            start.alpha[1] = new double[10];
            start.alpha[3] = new double[10];
            for (int k = 0; k < 10; k++) {
                start.alpha[1][k] = random.nextDouble();
                start.alpha[3][k] = random.nextDouble();
            }
            AlphaBetaCrown optimiser = new AlphaBetaCrown(net);
            double atRandom =
                    optimiser
                            .optimise(box, b.hiddenPreActivations(), splits, row, start, 0)
                            .bound();
            double optimised =
                    optimiser
                            .optimise(box, b.hiddenPreActivations(), splits, row, start, 50)
                            .bound();
            for (int p = 0; p < 20_000; p++) {
                double[] x = {
                    2 * random.nextDouble() - 1,
                    2 * random.nextDouble() - 1,
                    2 * random.nextDouble() - 1
                };
                if (!obeys(net, splits, x)) {
                    continue;
                }
                checkedPoints++;
                double value = -row.slack(net.logits(x));
                assertThat(value).isGreaterThanOrEqualTo(atRandom);
                assertThat(value).isGreaterThanOrEqualTo(optimised);
            }
        }
        assertThat(checkedPoints).isGreaterThan(10_000);
    }

    private static boolean obeys(Network net, Splits splits, double[] x) {
        double[] h = x;
        List<Layer> layers = net.layers();
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).forward(h);
            for (int k = 0; k < h.length; k++) {
                int sign = splits.sign(i, k);
                if ((sign > 0 && h[k] < 0) || (sign < 0 && h[k] > 0)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * f = -relu(x) on x in [-1, 1] with x forced active: the subdomain minimum is -1 at x = 1, a
     * point that obeys the decision. With the Lagrangian term's sign flipped the bound would be
     * -0.5 at beta = 0.5: above the minimum.
     */
    @Test
    void shouldStayBelowTheSubdomainMinimumWhenItsMinimiserObeysTheDecision() {
        Network net =
                Network.mlp(
                        List.of(
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1}}, new double[] {0}),
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1}}, new double[] {0})));
        Box box = new Box(new double[] {-1}, new double[] {1});
        Splits active = Splits.NONE.with(0, 0, 1, 1);
        LinearConstraint row = new LinearConstraint(new double[] {-1}, -2);
        List<double[][]> reluInputs = List.<double[][]>of(new double[][] {{0}, {1}});
        AlphaBetaCrown.Multipliers start =
                AlphaBetaCrown.Multipliers.initial(net).withBetaRow(0, 1);
        start.beta[0][0] = 0.5;
        double bound =
                new AlphaBetaCrown(net).optimise(box, reluInputs, active, row, start, 0).bound();
        assertThat(bound).isLessThanOrEqualTo(-1.0);
    }

    /** y = x0 + 2^60 x1 - 2^60 x2 at (1, 1, 1) is 1, but summed in that order in double it is 0. */
    @Test
    void shouldGuardTheBoundAgainstCancellation() {
        double big = 0x1p60;
        Network net =
                Network.mlp(
                        List.of(
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1, big, -big}}, new double[] {0})));
        Box point = new Box(new double[] {1, 1, 1}, new double[] {1, 1, 1});
        LinearConstraint minusY = new LinearConstraint(new double[] {-1}, -2);
        double bound =
                new AlphaBetaCrown(net)
                        .optimise(
                                point,
                                List.of(),
                                Splits.NONE,
                                minusY,
                                AlphaBetaCrown.Multipliers.initial(net),
                                0)
                        .bound();
        assertThat(bound).isLessThanOrEqualTo(-1.0); // -y is exactly -1 here
    }

    /**
     * Alpha-CROWN at the root (no splits) on random networks, with the intermediate bounds of an
     * independent CROWN ({@link ReferenceCrown}): never looser than that CROWN's margin bound
     * before any intersection with the box, often tighter, and it holds on every sampled point.
     */
    @Test
    void shouldNeverBeLooserThanCrownAndHoldOnSampledPoints() {
        Random random = new Random(11);
        int tighter = 0;
        for (int trial = 0; trial < 30; trial++) {
            Network net = Fixtures.randomMlp(700 + trial, 4, 12, 12, 3);
            double[] lo = new double[4];
            double[] hi = new double[4];
            for (int k = 0; k < 4; k++) {
                lo[k] = random.nextDouble() - 1;
                hi[k] = lo[k] + random.nextDouble();
            }
            Box box = new Box(lo, hi);
            int label = trial % 3;
            int other = (label + 1) % 3;
            double[] c = new double[3];
            c[label] = 1;
            c[other] = -1;
            LinearConstraint margin = new LinearConstraint(c, 0);
            ReferenceCrown.Bounds crown = ReferenceCrown.bound(net, lo, hi, label);
            double alpha =
                    new AlphaBetaCrown(net)
                            .optimise(
                                    box,
                                    crown.hidden(),
                                    Splits.NONE,
                                    margin,
                                    AlphaBetaCrown.Multipliers.initial(net),
                                    40)
                            .bound();
            double crownMargin = crown.marginLower()[other];
            assertThat(alpha).isGreaterThanOrEqualTo(crownMargin - 1e-9 * (1 + Math.abs(alpha)));
            if (alpha > crownMargin + 1e-6) {
                tighter++;
            }
            for (int p = 0; p < 5_000; p++) {
                double[] x = new double[4];
                for (int k = 0; k < 4; k++) {
                    x[k] = lo[k] + random.nextDouble() * (hi[k] - lo[k]);
                }
                assertThat(-margin.slack(net.logits(x))).isGreaterThanOrEqualTo(alpha);
            }
        }
        assertThat(tighter).isGreaterThan(5);
    }

    /**
     * Intermediate bounds refined by optimised slopes lie inside CROWN's, are tighter somewhere,
     * and hold for the pre-activations of every sampled point of the box.
     */
    @Test
    void shouldRefineIntermediateBoundsSoundly() {
        Random random = new Random(17);
        int tightened = 0;
        for (int trial = 0; trial < 10; trial++) {
            Network net = Fixtures.randomMlp(900 + trial, 5, 16, 16, 16, 3);
            double[] lo = new double[5];
            double[] hi = new double[5];
            for (int k = 0; k < 5; k++) {
                lo[k] = random.nextDouble() - 1;
                hi[k] = lo[k] + 0.5 * random.nextDouble();
            }
            Box box = new Box(lo, hi);
            List<double[][]> crown =
                    new CrownPropagator(net)
                            .bound(lo, hi, OutputSpec.robustness(3, 0))
                            .hiddenPreActivations();
            List<double[][]> refined =
                    new AlphaBetaCrown(net)
                            .refineIntermediate(
                                    box, crown, 20, System.nanoTime() + 10_000_000_000L);
            for (int r = 0; r < crown.size(); r++) {
                for (int k = 0; k < crown.get(r)[0].length; k++) {
                    assertThat(refined.get(r)[0][k]).isGreaterThanOrEqualTo(crown.get(r)[0][k]);
                    assertThat(refined.get(r)[1][k]).isLessThanOrEqualTo(crown.get(r)[1][k]);
                    double gain =
                            refined.get(r)[0][k]
                                    - crown.get(r)[0][k]
                                    + crown.get(r)[1][k]
                                    - refined.get(r)[1][k];
                    tightened += gain > 1e-6 ? 1 : 0;
                }
            }
            for (int p = 0; p < 5_000; p++) {
                double[] h = new double[5];
                for (int k = 0; k < 5; k++) {
                    h[k] = lo[k] + random.nextDouble() * (hi[k] - lo[k]);
                }
                int relu = 0;
                List<Layer> layers = net.layers();
                for (int i = 0; i < layers.size(); i++) {
                    h = layers.get(i).forward(h);
                    if (i + 1 < layers.size()
                            && layers.get(i + 1) instanceof org.robustflow.model.ReluLayer) {
                        double[][] b = refined.get(relu++);
                        for (int k = 0; k < h.length; k++) {
                            assertThat(h[k]).isBetween(b[0][k], b[1][k]);
                        }
                    }
                }
            }
        }
        assertThat(tightened).isGreaterThan(10);
    }

    /**
     * Bounding subdomains together stacks their rows into one product per layer, on one thread or
     * cut into parts on several; each must still get exactly its own bound, minimiser and warm
     * start, as if it were optimised alone.
     */
    @Test
    void shouldBoundEachSubdomainOfABatchAsItWouldAloneOnAnyNumberOfThreads() {
        Network net = Fixtures.defaultModel();
        Random random = new Random(11);
        Box box = Box.around(Fixtures.mnistTest().pixels(0), 0.03);
        int label = Fixtures.mnistTest().label(0);
        CrownPropagator crown = new CrownPropagator(net);
        double[][] magnitude = crown.magnitudes(box.lower(), box.upper());
        AlphaBetaCrown optimiser = new AlphaBetaCrown(net);
        List<AlphaBetaCrown.Problem> problems = new java.util.ArrayList<>();
        for (int p = 0; p < 6; p++) {
            Splits splits = Splits.NONE;
            for (int s = 0; s < p; s++) {
                splits =
                        splits.with(
                                2 * random.nextInt(3), random.nextInt(50), 50, s % 2 == 0 ? 1 : -1);
            }
            double[] c = new double[10];
            c[label] = 1;
            c[(label + 1 + p) % 10] = -1;
            LinearConstraint row = new LinearConstraint(c, 0);
            CrownPropagator.SpecBounds b =
                    crown.bound(
                                    new Interval(box.lower(), box.upper(), 1, 784),
                                    new OutputSpec[] {new OutputSpec(10, List.of(List.of(row)))},
                                    new Splits[] {splits})[0];
            AlphaBetaCrown.Multipliers start = AlphaBetaCrown.Multipliers.initial(net);
            for (int layer = 0; layer < 6; layer += 2) {
                start = start.withBetaRow(layer, 50);
            }
            problems.add(new AlphaBetaCrown.Problem(b.hiddenPreActivations(), splits, row, start));
        }
        List<AlphaBetaCrown.Optimised> together =
                optimiser.optimiseAll(box, problems, 8, magnitude);
        List<AlphaBetaCrown.Optimised> threaded =
                new AlphaBetaCrown(net, 4).optimiseAll(box, problems, 8, magnitude);
        assertThat(threaded).hasSameSizeAs(problems);
        for (int p = 0; p < problems.size(); p++) {
            AlphaBetaCrown.Problem problem = problems.get(p);
            AlphaBetaCrown.Optimised alone =
                    optimiser.optimise(
                            box,
                            problem.reluInputs(),
                            problem.splits(),
                            problem.row(),
                            problem.start(),
                            8,
                            magnitude);
            assertThat(together.get(p).bound())
                    .isCloseTo(alone.bound(), within(1e-9 * (1 + Math.abs(alone.bound()))));
            assertThat(together.get(p).minimiser()).containsExactly(alone.minimiser());
            assertThat(threaded.get(p).bound())
                    .isCloseTo(alone.bound(), within(1e-9 * (1 + Math.abs(alone.bound()))));
            assertThat(threaded.get(p).minimiser()).containsExactly(alone.minimiser());
        }
        assertThat(together).extracting(AlphaBetaCrown.Optimised::bound).doesNotHaveDuplicates();
    }
}
