package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class BoxCertifierTest {
    /** logit0 = x0 - x1, logit1 = x1 - x0 (no hidden layer): margin for label 0 is 2(x0 - x1). */
    private static final Network TWO_PIXELS =
            Network.mlp(
                    List.of(
                            new DenseLayer(
                                    new double[][] {{1, -1}, {-1, 1}}, new double[] {0, 0})));

    @Test
    void shouldCertifyExactlyWhenTheMarginLowerBoundIsPositive() {
        BoxCertifier certifier = new BoxCertifier(TWO_PIXELS);
        // x = (0.6, 0.4). On the box, lower(logit0) = 0.6-e - (0.4+e), upper(logit1) = 0.4+e -
        // (0.6-e):
        // the margin bound is 2 * (0.2 - 2e), positive for e < 0.1.
        Certifier.Result[][] grid =
                certifier.certifyGrid(
                        new double[] {0.6, 0.4},
                        new int[] {0},
                        new double[] {0.05, 0.099, 0.1, 0.2});
        assertThat(grid[0])
                .extracting(Certifier.Result::verdict)
                .containsExactly(
                        Verdict.CERTIFIED, Verdict.CERTIFIED, Verdict.UNKNOWN, Verdict.UNKNOWN);
        assertThat(grid[0][0].marginLowerBound()).isCloseTo(0.2, within(1e-9));
        assertThat(grid[0][0].predicted()).isZero();
    }

    @Test
    void shouldMarkMisclassifiedImagesAtEveryEps() {
        BoxCertifier certifier = new BoxCertifier(TWO_PIXELS);
        Certifier.Result[][] grid =
                certifier.certifyGrid(
                        new double[] {0.6, 0.4}, new int[] {1}, new double[] {0, 0.01});
        assertThat(grid[0])
                .extracting(Certifier.Result::verdict)
                .containsOnly(Verdict.MISCLASSIFIED);
    }

    /**
     * Small random networks at eps up to 0.1, where box bounds are tight enough that a wrong bound
     * shows: on boxes of 3-6 inputs every corner and 400 random points are sampled, and the margin
     * lower bound must not exceed the smallest sampled margin (a bound too tight by a fraction of
     * its looseness would). Certified pairs must have no sampled counterexample.
     */
    @Test
    void shouldNeverBoundAboveTheSampledMinimumMarginOnSmallNetworks() {
        Random random = new Random(11);
        int pairs = 0;
        int certified = 0;
        int tight = 0;
        for (int net = 0; net < 20; net++) {
            int in = 3 + net % 4;
            Network mlp = Fixtures.randomMlp(300 + net, in, 6, 3);
            BoxCertifier certifier = new BoxCertifier(mlp);
            for (int trial = 0; trial < 5; trial++) {
                double[] x = new double[in];
                for (int k = 0; k < in; k++) {
                    x[k] = random.nextDouble();
                }
                int label = mlp.predict(x);
                double clean = margin(mlp, x, label);
                for (double eps : new double[] {0.01, 0.03, 0.1}) {
                    Certifier.Result r =
                            certifier
                                    .certify(
                                            x,
                                            new int[] {label},
                                            new int[] {0},
                                            new double[] {eps})[0];
                    double sampled = sampledMinimumMargin(mlp, x, label, eps, random);
                    assertThat(r.marginLowerBound())
                            .as("net %d trial %d eps %s", net, trial, eps)
                            .isLessThanOrEqualTo(sampled);
                    if (r.verdict() == Verdict.CERTIFIED) {
                        certified++;
                        assertThat(sampled).isPositive();
                    }
                    // The bound's drop from the clean margin at most 3x the sampled drop.
                    if (clean - r.marginLowerBound() <= 3 * (clean - sampled)) {
                        tight++;
                    }
                    pairs++;
                }
            }
        }
        assertThat(certified).as("certified pairs").isBetween(pairs / 5, pairs - pairs / 5);
        assertThat(tight)
                .as("pairs where the bound is within 3x of the sampled drop")
                .isGreaterThan(pairs / 3);
    }

    /** logit_label - max_{j != label} logit_j at x. */
    private static double margin(Network mlp, double[] x, int label) {
        double[] logits = mlp.logits(x);
        double m = Double.POSITIVE_INFINITY;
        for (int j = 0; j < logits.length; j++) {
            if (j != label) {
                m = Math.min(m, logits[label] - logits[j]);
            }
        }
        return m;
    }

    /** The smallest margin over every corner of the box and 400 random points in it. */
    private static double sampledMinimumMargin(
            Network mlp, double[] x, int label, double eps, Random random) {
        int n = x.length;
        double[] lo = new double[n];
        double[] hi = new double[n];
        for (int k = 0; k < n; k++) {
            lo[k] = Math.max(0, x[k] - eps);
            hi[k] = Math.min(1, x[k] + eps);
        }
        double min = Double.POSITIVE_INFINITY;
        double[] p = new double[n];
        for (int corner = 0; corner < 1 << n; corner++) {
            for (int k = 0; k < n; k++) {
                p[k] = (corner >> k & 1) == 1 ? hi[k] : lo[k];
            }
            min = Math.min(min, margin(mlp, p, label));
        }
        for (int s = 0; s < 400; s++) {
            for (int k = 0; k < n; k++) {
                p[k] = lo[k] + random.nextDouble() * (hi[k] - lo[k]);
            }
            min = Math.min(min, margin(mlp, p, label));
        }
        return min;
    }

    @Test
    void shouldCountUnstableReluAndMatchGridAndRowApis() {
        Network mlp = Fixtures.defaultModel();
        double[] x = Fixtures.mnistTest().pixels(0);
        BoxCertifier certifier = new BoxCertifier(mlp);
        Certifier.Result[][] grid = certifier.certifyGrid(x, new int[] {7}, new double[] {0, 0.02});
        Certifier.Result[] rows =
                certifier.certify(x, new int[] {7}, new int[] {0, 0}, new double[] {0.02, 0});
        assertThat(grid[0][0].unstableRelus()).isZero();
        assertThat(grid[0][1].unstableRelus())
                .isPositive()
                .isLessThanOrEqualTo(mlp.hiddenNeurons());
        assertThat(rows[0]).isEqualTo(grid[0][1]);
        assertThat(rows[1]).isEqualTo(grid[0][0]);
    }
}
