package org.robustflow.bounds;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.robustflow.model.DenseLayer;

/**
 * Box bounds of y = W x + b in centre-radius form: c' = W c + b, r' = |W| r (two matrix products
 * instead of four for the lower/upper form). The products run in double on BLAS (see {@link
 * Matmul}); the element-wise work runs in plain Java.
 *
 * <p><b>Soundness under rounding.</b> Any order of summation of an n-term dot product in double has
 * an error of at most gamma_n * sum |w_i x_i|, gamma_n = n u / (1 - n u), u = 2^-53 (Higham,
 * "Accuracy and Stability of Numerical Algorithms", eq. 3.5), so BLAS may sum in any order. With m
 * = max(|lower|, |upper|) element-wise (so |c| + r = m): the two products err by at most gamma_n
 * |W| |c| + gamma_n |W| r = gamma_n |W| m; computing c and r from lower/upper loses at most 3u m
 * per input, i.e. 3u |W| m after the layer; the bias addition and the final c' ± r' add a few u
 * (|W| m + |b|). In all about (n + 6) u (|W| m + |b|). The bounds are widened outward by (2n + 8) u
 * (|W| m + |b|), about twice that, which also covers the rounding of the widening itself and of the
 * product |W| m, plus a tiny absolute term for underflow: about 2e-13 of the bound's magnitude for
 * n = 784. |W| m is a third product, stacked under |W| r so that BLAS runs one call for both.
 */
final class DenseBounds implements LayerBounds {
    private static final double UNIT_ROUNDOFF = 0x1p-53;
    private static final double UNDERFLOW_GUARD = 1e-290;

    private final int in;
    private final int out;

    /** W, [out, in]. */
    private final INDArray weight;

    /** W^T, [in, out]. */
    private final INDArray weightT;

    /** |W|, [out, in]. */
    private final INDArray absWeight;

    private final double[] bias;

    /**
     * The columns of W and |W| as Java arrays, one per input: C2 vectorises y += s x only over
     * whole arrays it can tell apart, not over slices of one array (2.7x measured here).
     */
    private final double[][] weightColumns;

    private final double[][] absWeightColumns;

    /** Row sums of |W|, one per output. */
    private final double[] absRowSums;

    /** The relative error factor u (2n + 8). */
    private final double relative;

    /** |b_o| times the relative error factor, plus the underflow guard. */
    private final double[] scaledAbsBias;

    DenseBounds(DenseLayer layer) {
        this.in = layer.inputSize();
        this.out = layer.outputSize();
        this.weightT = layer.weightT();
        this.weight = layer.weightMatrix();
        this.absWeight = Transforms.abs(weight, true);
        this.bias = layer.biases();
        this.relative = (2.0 * in + 8.0) * UNIT_ROUNDOFF;
        double[] byInput = weightT.dup('c').data().asDouble();
        this.weightColumns = new double[in][out];
        this.absWeightColumns = new double[in][out];
        this.absRowSums = new double[out];
        for (int k = 0; k < in; k++) {
            for (int o = 0; o < out; o++) {
                double w = byInput[k * out + o];
                weightColumns[k][o] = w;
                absWeightColumns[k][o] = Math.abs(w);
                absRowSums[o] += Math.abs(w);
            }
        }
        this.scaledAbsBias = new double[out];
        for (int o = 0; o < out; o++) {
            scaledAbsBias[o] = Math.abs(bias[o]) * relative + UNDERFLOW_GUARD;
        }
    }

    @Override
    public Interval box(Interval input) {
        if (input.width() != in) {
            throw new IllegalArgumentException(
                    "layer takes " + in + " inputs, bounds have " + input.width());
        }
        int rows = input.rows();
        double[] lower = input.lower();
        double[] upper = input.upper();
        double[] centre = new double[rows * in];
        // r in the first rows, m below: one BLAS call gives |W| r and |W| m.
        double[] radiusAndMagnitude = new double[2 * rows * in];
        int magnitudeOffset = rows * in;
        for (int k = 0; k < rows * in; k++) {
            double lo = lower[k];
            double hi = upper[k];
            centre[k] = (lo + hi) * 0.5;
            radiusAndMagnitude[k] = (hi - lo) * 0.5;
            radiusAndMagnitude[magnitudeOffset + k] = Math.max(Math.abs(lo), Math.abs(hi));
        }
        double[] outCentre = Matmul.multiply(centre, rows, weight);
        double[] outRadiusAndError = Matmul.multiply(radiusAndMagnitude, 2 * rows, absWeight);
        int errorOffset = rows * out;
        double[] outLower = new double[rows * out];
        double[] outUpper = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            int base = r * out;
            for (int o = 0; o < out; o++) {
                double c = outCentre[base + o] + bias[o];
                double absWm = outRadiusAndError[errorOffset + base + o];
                double rad = outRadiusAndError[base + o] + (absWm * relative + scaledAbsBias[o]);
                outLower[base + o] = c - rad;
                outUpper[base + o] = c + rad;
            }
        }
        return new Interval(outLower, outUpper, rows, out);
    }

    /**
     * Box bounds of this layer over the boxes [max(0, x - t), min(1, x + t)] around images x, row r
     * around image {@code rowImage[r]} with half-width {@code rowHalfWidth[r]}, from products per
     * image instead of per row (an image has one row per eps). Pixels must lie in [0,1] and half
     * widths in [0, 1/2], so a box is clipped at one end at most.
     *
     * <p>Pixels at 0 have the box [0, t], at 1 [1 - t, 1], and the others [x - t, x + t] unless
     * they are within t of 0 or 1 ("near"). With s = 1 at 0, -1 at 1 and 0 elsewhere, and M the
     * pixels strictly inside (0, 1), Z/O those at 0 and 1:
     *
     * <pre>
     *   W c   = W x + (t/2) W s + sum over near k of W_k (c_k - x_k)
     *   |W| r = t |W| 1_M + (t/2) |W| 1_{Z+O} + sum over near k of |W_k| (r_k - t)
     * </pre>
     *
     * W x, W s, |W| 1_M, |W| 1_{Z+O} and |W| x are five products per image. A near pixel at the 0
     * end (x &lt; t, box [0, x + t]) adds W_k (t - x_k)/2 to the centre and |W_k| (x_k - t)/2 to
     * the radius, one at the 1 end (y = 1 - x &lt; t, box [x - t, 1]) W_k (y_k - t)/2 and |W_k|
     * (y_k - t)/2: linear in t over sums of W_k, W_k x_k, |W_k|, |W_k| x_k (and the same with y).
     * The rows of an image, by ascending t, walk its near pixels by ascending distance to the edge
     * once, each taking the sums so far: per image about 60 near pixels on MNIST, per row a dozen
     * vectors. Any pixel may be taken as near or not: each case's box contains the pixel's query
     * box, so neither the order nor the category tests need rounding care.
     *
     * <p><b>Rounding.</b> The centre and the radius are sums of terms (W_k x_k; W_k t/2 at 0 and 1;
     * t |W_k| and t/2 |W_k|; for a near pixel W_k t/2, W_k x_k/2 (or y_k), |W_k| t/2, |W_k| x_k/2,
     * each at most |W_k| t/2) whose magnitudes add up to at most S = |W| x + 3 t rowsum|W| + |b|.
     * Each term goes through at most D = n + N + 10 roundings (n inputs, N near pixels walked for
     * the row, the scalings and final additions), so the bounds err by at most gamma_D S (Higham,
     * "Accuracy and Stability of Numerical Algorithms", eq. 3.5, in any order of summation). They
     * are widened by 2 (n + N + 16) u S, which also covers the rounding of S itself and of the
     * widening.
     */
    Interval boxAroundImages(
            double[] images, int numImages, int[] rowImage, double[] rowHalfWidth) {
        int rows = rowImage.length;
        // Per image: [x; s] against W, [1_M; 1_{Z+O}; x] against |W|.
        double[] signed = new double[2 * numImages * in];
        double[] indicators = new double[3 * numImages * in];
        double[] widest = new double[numImages];
        for (int r = 0; r < rows; r++) {
            double t = rowHalfWidth[r];
            if (!(t >= 0 && t <= 0.5)) {
                throw new IllegalArgumentException("half width " + t + " is not in [0, 0.5]");
            }
            widest[rowImage[r]] = Math.max(widest[rowImage[r]], t);
        }
        int[][] near = new int[numImages][];
        for (int i = 0; i < numImages; i++) {
            int from = i * in;
            for (int k = 0; k < in; k++) {
                double x = images[from + k];
                if (!(x >= 0 && x <= 1)) {
                    throw new IllegalArgumentException(
                            "pixel " + k + " of image " + i + " is " + x);
                }
                signed[2 * from + k] = x;
                indicators[3 * from + 2 * in + k] = x;
                if (x == 0) {
                    signed[2 * from + in + k] = 1;
                    indicators[3 * from + in + k] = 1;
                } else if (x == 1) {
                    signed[2 * from + in + k] = -1;
                    indicators[3 * from + in + k] = 1;
                } else {
                    indicators[3 * from + k] = 1;
                }
            }
            near[i] = nearTheEdges(images, from, widest[i]);
        }
        double[] perImage = Matmul.multiply(signed, 2 * numImages, weight);
        double[] absPerImage = Matmul.multiply(indicators, 3 * numImages, absWeight);
        double[] outLower = new double[rows * out];
        double[] outUpper = new double[rows * out];
        // Sums over the near pixels walked so far, t-free: W, W x, |W|, |W| x at the 0 end and W,
        // W y, |W|, |W| y at the 1 end (y = 1 - x, exact for x >= 1/2).
        double[][] sums = new double[8][out];
        double[] centre = new double[out];
        double[] radius = new double[out];
        for (int[] group : rowsByImageAndHalfWidth(rowImage, rowHalfWidth, numImages)) {
            if (group.length == 0) {
                continue;
            }
            int i = rowImage[group[0]];
            for (double[] sum : sums) {
                java.util.Arrays.fill(sum, 0);
            }
            int walked = 0;
            for (int r : group) {
                double t = rowHalfWidth[r];
                // Every near pixel with distance below t joins the sums; with t <= 1/2 one is
                // clipped at one end only.
                for (; walked < near[i].length; walked++) {
                    int k = near[i][walked];
                    double x = images[i * in + k];
                    boolean low = x < 0.5;
                    double distance = low ? x : 1 - x;
                    if (distance >= t) {
                        break;
                    }
                    int side = low ? 0 : 4;
                    addScaled(sums[side], weightColumns[k], 1);
                    addScaled(sums[side + 1], weightColumns[k], distance);
                    addScaled(sums[side + 2], absWeightColumns[k], 1);
                    addScaled(sums[side + 3], absWeightColumns[k], distance);
                }
                double halfT = 0.5 * t;
                int p = 2 * i * out;
                int a = 3 * i * out;
                for (int o = 0; o < out; o++) {
                    // At the 0 end [0, x + t]: c - x = (t - x)/2, r - t = (x - t)/2; at the 1 end
                    // [x - t, 1]: both (y - t)/2.
                    centre[o] =
                            perImage[p + o]
                                    + halfT * perImage[p + out + o]
                                    + (halfT * sums[0][o] - 0.5 * sums[1][o])
                                    + (0.5 * sums[5][o] - halfT * sums[4][o]);
                    radius[o] =
                            t * absPerImage[a + o]
                                    + halfT * absPerImage[a + out + o]
                                    + (0.5 * sums[3][o] - halfT * sums[2][o])
                                    + (0.5 * sums[7][o] - halfT * sums[6][o]);
                }
                int base = r * out;
                double relativeError = 2.0 * (in + walked + 16) * UNIT_ROUNDOFF;
                for (int o = 0; o < out; o++) {
                    double magnitude =
                            absPerImage[a + 2 * out + o]
                                    + 3 * t * absRowSums[o]
                                    + Math.abs(bias[o]);
                    double guard = relativeError * magnitude + UNDERFLOW_GUARD;
                    double c = centre[o] + bias[o];
                    double rad = radius[o] + guard;
                    outLower[base + o] = c - rad;
                    outUpper[base + o] = c + rad;
                }
            }
        }
        return new Interval(outLower, outUpper, rows, out);
    }

    /** Row indices grouped by image, each group by ascending half width. */
    private static int[][] rowsByImageAndHalfWidth(
            int[] rowImage, double[] rowHalfWidth, int numImages) {
        int[] count = new int[numImages];
        for (int image : rowImage) {
            count[image]++;
        }
        int[][] groups = new int[numImages][];
        for (int i = 0; i < numImages; i++) {
            groups[i] = new int[count[i]];
            count[i] = 0;
        }
        for (int r = 0; r < rowImage.length; r++) {
            groups[rowImage[r]][count[rowImage[r]]++] = r;
        }
        for (int[] group : groups) {
            // Insertion sort: an image has a handful of rows, one per eps.
            for (int j = 1; j < group.length; j++) {
                int row = group[j];
                int m = j - 1;
                while (m >= 0 && rowHalfWidth[group[m]] > rowHalfWidth[row]) {
                    group[m + 1] = group[m];
                    m--;
                }
                group[m + 1] = row;
            }
        }
        return groups;
    }

    /** y += s x for arrays of one length. */
    private static void addScaled(double[] y, double[] x, double s) {
        for (int o = 0; o < y.length; o++) {
            y[o] += x[o] * s;
        }
    }

    /**
     * The pixels of the image at {@code from} strictly inside (0, 1) and within {@code widest} of 0
     * or 1, nearest an edge first. The order comes from a primitive sort of the distances with the
     * pixel index in their lowest bits, so distances within a few ulps may come out of order: a
     * pixel that a row then takes as not near gets the unclipped box [x - t, x + t], which still
     * contains its query box.
     */
    private int[] nearTheEdges(double[] images, int from, double widest) {
        int indexBits = 32 - Integer.numberOfLeadingZeros(Math.max(1, in - 1));
        long indexMask = (1L << indexBits) - 1;
        long[] keys = new long[in];
        int n = 0;
        for (int k = 0; k < in; k++) {
            double x = images[from + k];
            double distance = Math.min(x, 1 - x);
            if (x != 0 && x != 1 && distance < widest) {
                // Non-negative doubles order as their bit patterns.
                keys[n++] = (Double.doubleToLongBits(distance) & ~indexMask) | k;
            }
        }
        java.util.Arrays.sort(keys, 0, n);
        int[] result = new int[n];
        for (int j = 0; j < n; j++) {
            result[j] = (int) (keys[j] & indexMask);
        }
        return result;
    }

    /** |W| x for {@code rows} row vectors x (row-major [rows, in]); [rows, out]. */
    double[] absProduct(double[] x, int rows) {
        return Matmul.multiply(x, rows, absWeight);
    }

    @Override
    public LinearBounds backSubstitute(LinearBounds over, Interval input) {
        int rows = over.rows;
        boolean upper = over.hasUpper();
        // Lower and upper coefficient matrices stacked: one BLAS call for both.
        double[] stacked = upper ? new double[2 * rows * out] : over.lowerA;
        if (upper) {
            System.arraycopy(over.lowerA, 0, stacked, 0, rows * out);
            System.arraycopy(over.upperA, 0, stacked, rows * out, rows * out);
        }
        double[] product = Matmul.multiply(stacked, upper ? 2 * rows : rows, weightT);
        double[] lowerA = java.util.Arrays.copyOfRange(product, 0, rows * in);
        double[] upperA =
                upper ? java.util.Arrays.copyOfRange(product, rows * in, 2 * rows * in) : null;
        return new LinearBounds(
                rows,
                in,
                lowerA,
                shift(over.lowerA, over.lowerC, rows),
                upperA,
                upper ? shift(over.upperA, over.upperC, rows) : null,
                over.rowQuery);
    }

    /** c + A b. */
    private double[] shift(double[] a, double[] c, int rows) {
        double[] result = c.clone();
        for (int q = 0; q < rows; q++) {
            result[q] += LinearBounds.dot(a, q * out, bias, out);
        }
        return result;
    }
}
