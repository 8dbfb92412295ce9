package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.data.MnistDataset;
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

    @Test
    void shouldNeverCertifyAPairWithASampledCounterexample() {
        Network mlp = Fixtures.defaultModel();
        MnistDataset test = Fixtures.mnistTest().head(100);
        double[] eps = {0.0005, 0.001, 0.002};
        double[] images = new double[test.size() * 784];
        for (int i = 0; i < test.size(); i++) {
            test.writePixels(i, images, i * 784);
        }
        Certifier.Result[][] grid = new BoxCertifier(mlp).certifyGrid(images, test.labels(), eps);
        Random random = new Random(11);
        int certified = 0;
        for (int i = 0; i < test.size(); i++) {
            for (int e = 0; e < eps.length; e++) {
                if (grid[i][e].verdict() != Verdict.CERTIFIED) {
                    continue;
                }
                certified++;
                double[] x = test.pixels(i);
                for (int s = 0; s < 50; s++) {
                    double[] p = new double[784];
                    for (int k = 0; k < 784; k++) {
                        p[k] =
                                Math.min(
                                        1,
                                        Math.max(
                                                0,
                                                x[k] + eps[e] * (random.nextBoolean() ? 1 : -1)));
                    }
                    assertThat(mlp.predict(p)).isEqualTo(test.label(i));
                }
            }
        }
        assertThat(certified).as("some pairs certify at tiny eps").isPositive();
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
