package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.ReferenceIntervalPropagation;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The batched ND4J bounds against an independent plain-Java implementation on real images. */
class BoundPropagatorTest {
    private static final double[] EPS = {0, 0.005, 0.01, 0.03, 0.1};

    @Test
    void shouldAgreeWithReferenceWithin1e9RelativeAndContainIt() {
        assertAgreement(false);
    }

    @Test
    void shouldAgreeWithReferenceAlsoFromProductsPerImage() {
        assertAgreement(true);
    }

    private static void assertAgreement(boolean perImage) {
        Network mlp = Fixtures.defaultModel();
        int rows = images() * EPS.length;
        double[] lower = new double[rows * 784];
        double[] upper = new double[rows * 784];
        for (int i = 0; i < images(); i++) {
            for (int e = 0; e < EPS.length; e++) {
                InputBox.write(
                        Fixtures.mnistTest().pixels(i),
                        EPS[e],
                        lower,
                        upper,
                        (i * EPS.length + e) * 784);
            }
        }
        BoundPropagator propagator = new BoundPropagator(mlp);
        List<Interval> batched;
        if (perImage) {
            double[] images = new double[images() * 784];
            int[] rowImage = new int[rows];
            double[] rowEps = new double[rows];
            for (int i = 0; i < images(); i++) {
                Fixtures.mnistTest().writePixels(i, images, i * 784);
                for (int e = 0; e < EPS.length; e++) {
                    rowImage[i * EPS.length + e] = i;
                    rowEps[i * EPS.length + e] = EPS[e];
                }
            }
            batched = propagator.preActivationsAroundImages(images, images(), rowImage, rowEps);
        } else {
            batched = propagator.preActivations(new Interval(lower, upper, rows, 784));
        }
        double worst = 0;
        for (int r = 0; r < rows; r++) {
            double[] lo = java.util.Arrays.copyOfRange(lower, r * 784, (r + 1) * 784);
            double[] hi = java.util.Arrays.copyOfRange(upper, r * 784, (r + 1) * 784);
            List<double[][]> reference = ReferenceIntervalPropagation.preActivations(mlp, lo, hi);
            for (int l = 0; l < reference.size(); l++) {
                double[][] ref = reference.get(l);
                Interval b = batched.get(l);
                for (int k = 0; k < ref[0].length; k++) {
                    double scale =
                            Math.max(1.0, Math.max(Math.abs(ref[0][k]), Math.abs(ref[1][k])));
                    worst = Math.max(worst, Math.abs(b.lower(r, k) - ref[0][k]) / scale);
                    worst = Math.max(worst, Math.abs(b.upper(r, k) - ref[1][k]) / scale);
                    assertThat(b.lower(r, k))
                            .as("row %d layer %d neuron %d lower", r, l, k)
                            .isLessThanOrEqualTo(ref[0][k]);
                    assertThat(b.upper(r, k))
                            .as("row %d layer %d neuron %d upper", r, l, k)
                            .isGreaterThanOrEqualTo(ref[1][k]);
                }
            }
        }
        assertThat(worst).isLessThan(1e-9);
    }

    private static int images() {
        return 20;
    }

    @Test
    void shouldGiveTheSameBoundsWhateverTheBatch() {
        Network mlp = Fixtures.randomMlp(3, 784, 30, 10);
        double[][] box = InputBox.of(Fixtures.mnistTest().pixels(7), 0.02);
        Interval single = new BoundPropagator(mlp).logits(new Interval(box[0], box[1], 1, 784));
        double[] lower = new double[3 * 784];
        double[] upper = new double[3 * 784];
        for (int r = 0; r < 3; r++) {
            System.arraycopy(box[0], 0, lower, r * 784, 784);
            System.arraycopy(box[1], 0, upper, r * 784, 784);
        }
        Interval triple = new BoundPropagator(mlp).logits(new Interval(lower, upper, 3, 784));
        // BLAS may sum in another order for another shape: equal up to rounding, not bit for bit.
        for (int r = 0; r < 3; r++) {
            for (int side = 0; side < 2; side++) {
                double[] expected = single.row(0)[side];
                double[] actual = triple.row(r)[side];
                for (int k = 0; k < expected.length; k++) {
                    assertThat(actual[k])
                            .isCloseTo(
                                    expected[k],
                                    org.assertj.core.api.Assertions.within(
                                            1e-12 * Math.max(1, Math.abs(expected[k]))));
                }
            }
        }
    }
}
