package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

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
    void shouldContainSampledPointsAndNeverBeLooserThanBox(double eps) {
        Network mlp = Fixtures.defaultModel();
        CrownPropagator crown = new CrownPropagator(mlp);
        BoundPropagator box = new BoundPropagator(mlp);
        Random random = new Random(42);
        for (int image = 0; image < 3; image++) {
            double[] x = Fixtures.mnistTest().pixels(image);
            int label = Fixtures.mnistTest().label(image);
            double[][] inputBox = InputBox.of(x, eps);
            CrownPropagator.RowBounds b = crown.bound(inputBox[0], inputBox[1], label);
            List<Interval> boxBounds =
                    box.preActivations(new Interval(inputBox[0], inputBox[1], 1, 784));
            for (int l = 0; l < b.hiddenPreActivations().size(); l++) {
                double[][] c = b.hiddenPreActivations().get(l);
                for (int k = 0; k < c[0].length; k++) {
                    assertThat(c[0][k]).isGreaterThanOrEqualTo(boxBounds.get(l).lower(0, k));
                    assertThat(c[1][k]).isLessThanOrEqualTo(boxBounds.get(l).upper(0, k));
                }
            }
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

    @Test
    void shouldCertifyEverythingBoxCertifiesAndMore() {
        Network mlp = Fixtures.defaultModel();
        int n = 50;
        double[] images = new double[n * 784];
        for (int i = 0; i < n; i++) {
            Fixtures.mnistTest().writePixels(i, images, i * 784);
        }
        int[] labels = java.util.Arrays.copyOf(Fixtures.mnistTest().labels(), n);
        double[] eps = {0.001, 0.005, 0.01};
        Certifier.Result[][] box = new BoxCertifier(mlp).certifyGrid(images, labels, eps);
        Certifier.Result[][] crown = new CrownCertifier(mlp).certifyGrid(images, labels, eps);
        int boxCertified = 0;
        int crownCertified = 0;
        for (int i = 0; i < n; i++) {
            for (int e = 0; e < eps.length; e++) {
                if (box[i][e].verdict() == Verdict.CERTIFIED) {
                    boxCertified++;
                    assertThat(crown[i][e].verdict()).isEqualTo(Verdict.CERTIFIED);
                }
                if (crown[i][e].verdict() == Verdict.CERTIFIED) {
                    crownCertified++;
                }
                assertThat(crown[i][e].marginLowerBound())
                        .isGreaterThanOrEqualTo(box[i][e].marginLowerBound());
                assertThat(crown[i][e].unstableRelus())
                        .isLessThanOrEqualTo(box[i][e].unstableRelus());
            }
        }
        assertThat(crownCertified).isGreaterThan(boxCertified);
    }
}
