package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.testutils.ExactArithmetic;
import org.robustflow.testutils.Fixtures;

import java.math.BigDecimal;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rounding guard of the box bounds: computed bounds must contain the bounds of exact arithmetic
 * (BigDecimal), which no unguarded double computation does in general.
 */
class DenseBoundsTest {
    /**
     * 2^60 - 2^60 + 1 + 3 * 2^-60: the exact value is not a double, so every order of summation
     * rounds it, and orders that add 1 to +-2^60 first lose it entirely (catastrophic
     * cancellation). A zero-width box makes the unguarded interval a single double beside the exact
     * value.
     */
    private static final Network CANCELLING =
            Network.mlp(
                    List.of(
                            new DenseLayer(
                                    new double[][] {{0x1p60, -0x1p60, 1, 3 * 0x1p-60}},
                                    new double[] {0x1p-61})));

    @Test
    void shouldContainTheExactValueOfACancellingDotProduct() {
        double[] x = {1, 1, 1, 1};
        Interval logits = new BoundPropagator(CANCELLING).logits(new Interval(x, x, 1, 4));
        BigDecimal exact = ExactArithmetic.preActivations(CANCELLING, x, x).get(0)[0][0];
        assertThat(exact)
                .isEqualByComparingTo(
                        BigDecimal.ONE.add(
                                new BigDecimal(0x1p-61).multiply(BigDecimal.valueOf(7))));
        assertThat(ExactArithmetic.exact(logits.lower(0, 0)))
                .as("lower bound of 2^60 - 2^60 + 1 + 3.5 * 2^-60")
                .isLessThanOrEqualTo(exact);
        assertThat(ExactArithmetic.exact(logits.upper(0, 0)))
                .as("upper bound of 2^60 - 2^60 + 1 + 3.5 * 2^-60")
                .isGreaterThanOrEqualTo(exact);
    }

    @Test
    void shouldContainTheExactIntervalBoundsOfEveryLayerOnRandomNetworksAndBoxes() {
        Random random = new Random(17);
        int checked = 0;
        for (int net = 0; net < 12; net++) {
            int in = 3 + random.nextInt(6);
            Network mlp = Fixtures.randomMlp(100 + net, in, 2 + random.nextInt(8), 5, 3);
            int rows = 4;
            double[] lower = new double[rows * in];
            double[] upper = new double[rows * in];
            for (int r = 0; r < rows; r++) {
                double eps = new double[] {0, 1e-3, 0.1, 0.5}[r];
                for (int k = 0; k < in; k++) {
                    double x = random.nextDouble();
                    lower[r * in + k] = Math.max(0, x - eps);
                    upper[r * in + k] = Math.min(1, x + eps);
                }
            }
            List<Interval> computed =
                    new BoundPropagator(mlp).preActivations(new Interval(lower, upper, rows, in));
            for (int r = 0; r < rows; r++) {
                double[] lo = java.util.Arrays.copyOfRange(lower, r * in, (r + 1) * in);
                double[] hi = java.util.Arrays.copyOfRange(upper, r * in, (r + 1) * in);
                checked += assertContains(computed, ExactArithmetic.preActivations(mlp, lo, hi), r);
            }
        }
        assertThat(checked).isGreaterThan(1000);
    }

    @Test
    void shouldContainTheExactValueOfACancellingDotProductInTheBoxesAroundImages() {
        // Half width 0 leaves the per-image products alone in the bound: only the guard covers
        // their rounding. Pixels at 1 and inside (0, 1) take different terms of the sum.
        DenseBounds first = new DenseBounds((DenseLayer) CANCELLING.layers().get(0));
        for (double pixel : new double[] {1, 0.5}) {
            double[] x = {pixel, pixel, pixel, pixel};
            Interval computed = first.boxAroundImages(x, 1, new int[] {0}, new double[] {0});
            BigDecimal exact = ExactArithmetic.preActivations(CANCELLING, x, x).get(0)[0][0];
            assertThat(ExactArithmetic.exact(computed.lower(0, 0)))
                    .as("lower bound at pixels %s", pixel)
                    .isLessThanOrEqualTo(exact);
            assertThat(ExactArithmetic.exact(computed.upper(0, 0)))
                    .as("upper bound at pixels %s", pixel)
                    .isGreaterThanOrEqualTo(exact);
        }
    }

    @Test
    void shouldContainTheExactBoundsOfTheQueryBoxesFromProductsPerImage() {
        // The path BoxCertifier takes. The reference is the query's box in exact arithmetic,
        // [max(0, x - eps), min(1, x + eps)]; eps 0.7 clips pixels at both ends.
        Random random = new Random(23);
        double[] eps = {0, 0.003, 0.05, 0.1, 0.4, 0.7};
        int checked = 0;
        for (int net = 0; net < 12; net++) {
            int in = 4 + random.nextInt(12);
            Network mlp = Fixtures.randomMlp(200 + net, in, 6, 4, 3);
            int images = 3;
            double[] pixels = new double[images * in];
            for (int k = 0; k < pixels.length; k++) {
                // As MNIST has them: many zeros, some ones, the rest p/255, some near the ends.
                int p =
                        switch (random.nextInt(5)) {
                            case 0 -> 0;
                            case 1 -> 255;
                            case 2 ->
                                    random.nextBoolean()
                                            ? random.nextInt(4)
                                            : 252 + random.nextInt(4);
                            default -> random.nextInt(256);
                        };
                pixels[k] = p / 255.0;
            }
            int rows = images * eps.length;
            int[] rowImage = new int[rows];
            double[] rowEps = new double[rows];
            for (int r = 0; r < rows; r++) {
                rowImage[r] = r / eps.length;
                rowEps[r] = eps[r % eps.length];
            }
            List<Interval> computed =
                    new BoundPropagator(mlp)
                            .preActivationsAroundImages(pixels, images, rowImage, rowEps);
            for (int r = 0; r < rows; r++) {
                BigDecimal[] lo = new BigDecimal[in];
                BigDecimal[] hi = new BigDecimal[in];
                BigDecimal e = ExactArithmetic.exact(rowEps[r]);
                for (int k = 0; k < in; k++) {
                    BigDecimal x = ExactArithmetic.exact(pixels[rowImage[r] * in + k]);
                    lo[k] = x.subtract(e).max(BigDecimal.ZERO);
                    hi[k] = x.add(e).min(BigDecimal.ONE);
                }
                checked += assertContains(computed, ExactArithmetic.preActivations(mlp, lo, hi), r);
            }
        }
        assertThat(checked).isGreaterThan(2000);
    }

    /**
     * Asserts that row r of every computed layer contains the exact bounds and is at most 1e-9
     * (relative) wider; returns the number of bounds checked.
     */
    private static int assertContains(List<Interval> computed, List<BigDecimal[][]> exact, int r) {
        int checked = 0;
        for (int l = 0; l < exact.size(); l++) {
            Interval c = computed.get(l);
            BigDecimal[][] e = exact.get(l);
            for (int k = 0; k < e[0].length; k++) {
                assertThat(ExactArithmetic.exact(c.lower(r, k)))
                        .as("row %d layer %d neuron %d: lower bound vs exact", r, l, k)
                        .isLessThanOrEqualTo(e[0][k]);
                assertThat(ExactArithmetic.exact(c.upper(r, k)))
                        .as("row %d layer %d neuron %d: upper bound vs exact", r, l, k)
                        .isGreaterThanOrEqualTo(e[1][k]);
                double scale =
                        1 + Math.abs(e[0][k].doubleValue()) + Math.abs(e[1][k].doubleValue());
                assertThat(e[0][k].doubleValue() - c.lower(r, k)).isLessThan(1e-9 * scale);
                assertThat(c.upper(r, k) - e[1][k].doubleValue()).isLessThan(1e-9 * scale);
                checked += 2;
            }
        }
        return checked;
    }
}
