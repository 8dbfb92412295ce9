package org.robustflow.bounds;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Sampled points and corners of real eps-boxes must land inside the box bounds of every layer. */
class BoxSoundnessTest {
    private static final int SAMPLES = 1000;
    private static final int CORNERS = 200;

    @ParameterizedTest
    @ValueSource(doubles = {0.001, 0.01, 0.05, 0.1})
    void shouldContainEverySampledPointAndCorner(double eps) {
        Network mlp = Fixtures.defaultModel();
        BoundPropagator propagator = new BoundPropagator(mlp);
        Random random = new Random(Double.doubleToLongBits(eps));
        for (int image = 0; image < 3; image++) {
            double[] x = Fixtures.mnistTest().pixels(image);
            double[][] box = InputBox.of(x, eps);
            List<Interval> bounds =
                    propagator.preActivations(new Interval(box[0], box[1], 1, x.length));
            double[] lo = new double[x.length];
            double[] hi = new double[x.length];
            for (int k = 0; k < x.length; k++) {
                lo[k] = Math.max(0, x[k] - eps);
                hi[k] = Math.min(1, x[k] + eps);
            }
            for (int s = 0; s < SAMPLES + CORNERS; s++) {
                double[] point = new double[x.length];
                for (int k = 0; k < x.length; k++) {
                    double t = s < SAMPLES ? random.nextDouble() : (random.nextBoolean() ? 1 : 0);
                    point[k] = lo[k] + t * (hi[k] - lo[k]);
                }
                assertInside(mlp, bounds, point);
            }
            assertInside(mlp, bounds, x);
        }
    }

    private static void assertInside(Network mlp, List<Interval> bounds, double[] point) {
        double[] h = point;
        List<DenseLayer> layers = mlp.denseLayers();
        for (int l = 0; l < layers.size(); l++) {
            double[] pre = layers.get(l).forward(h);
            Interval b = bounds.get(l);
            for (int k = 0; k < pre.length; k++) {
                assertThat(pre[k])
                        .as("layer %d neuron %d", l, k)
                        .isBetween(b.lower(0, k), b.upper(0, k));
            }
            h = pre.clone();
            for (int k = 0; k < h.length; k++) {
                h[k] = Math.max(0, h[k]);
            }
        }
    }
}
