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
        this.scaledAbsBias = new double[out];
        for (int o = 0; o < out; o++) {
            scaledAbsBias[o] = Math.abs(bias[o]) * relative + UNDERFLOW_GUARD;
        }
    }

    @Override
    public Interval box(Interval input) {
        return box(input, null);
    }

    /**
     * Box bounds with an optional shortcut for the rounding guard.
     *
     * @param absCentreBound an upper bound of |W| |c| per row and output ([rows, out]), or null to
     *     compute |W| m with a third product. With it, |W| m = |W| |c| + |W| r is bounded without
     *     that product.
     */
    Interval box(Interval input, double[] absCentreBound) {
        if (input.width() != in) {
            throw new IllegalArgumentException(
                    "layer takes " + in + " inputs, bounds have " + input.width());
        }
        int rows = input.rows();
        double[] lower = input.lower();
        double[] upper = input.upper();
        double[] centre = new double[rows * in];
        // r in the first rows, m below: one BLAS call gives |W| r and |W| m.
        boolean hinted = absCentreBound != null;
        double[] radiusAndMagnitude = new double[(hinted ? 1 : 2) * rows * in];
        int magnitudeOffset = rows * in;
        for (int k = 0; k < rows * in; k++) {
            double lo = lower[k];
            double hi = upper[k];
            centre[k] = (lo + hi) * 0.5;
            radiusAndMagnitude[k] = (hi - lo) * 0.5;
            if (!hinted) {
                radiusAndMagnitude[magnitudeOffset + k] = Math.max(Math.abs(lo), Math.abs(hi));
            }
        }
        double[] outCentre = Matmul.multiply(centre, rows, weight);
        double[] outRadiusAndError =
                Matmul.multiply(radiusAndMagnitude, (hinted ? 1 : 2) * rows, absWeight);
        int errorOffset = rows * out;
        double[] outLower = new double[rows * out];
        double[] outUpper = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            int base = r * out;
            for (int o = 0; o < out; o++) {
                double c = outCentre[base + o] + bias[o];
                double absWm =
                        hinted
                                ? absCentreBound[base + o] + outRadiusAndError[base + o]
                                : outRadiusAndError[errorOffset + base + o];
                double rad = outRadiusAndError[base + o] + (absWm * relative + scaledAbsBias[o]);
                outLower[base + o] = c - rad;
                outUpper[base + o] = c + rad;
            }
        }
        return new Interval(outLower, outUpper, rows, out);
    }

    /** |W| x for {@code rows} row vectors x (row-major [rows, in]); [rows, out]. */
    double[] absProduct(double[] x, int rows) {
        return Matmul.multiply(x, rows, absWeight);
    }

    /** Row sums of |W|, one per output. */
    double[] absRowSums() {
        return absWeight.sum(1).toDoubleVector();
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
