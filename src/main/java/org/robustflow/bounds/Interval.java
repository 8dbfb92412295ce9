package org.robustflow.bounds;

import java.util.Arrays;

/**
 * Element-wise bounds {@code lower <= v <= upper} for a batch of vectors, kept as flat row-major
 * double arrays of {@code rows * width} values. Row r bounds the r-th (image, eps) pair.
 *
 * <p>Plain arrays rather than ND4J arrays: element-wise work is cheaper in Java than an ND4J op
 * (each op allocating off-heap memory costs ~1 ms here), so only the matrix products go to BLAS.
 */
public record Interval(double[] lower, double[] upper, int rows, int width) {
    public Interval {
        if (lower.length != (long) rows * width || upper.length != lower.length) {
            throw new IllegalArgumentException(
                    "bounds must hold rows * width = " + rows + " * " + width + " values");
        }
    }

    /** Bounds of one row as plain arrays: {lower, upper}. */
    public double[][] row(int r) {
        return new double[][] {
            Arrays.copyOfRange(lower, r * width, (r + 1) * width),
            Arrays.copyOfRange(upper, r * width, (r + 1) * width)
        };
    }

    public double lower(int r, int k) {
        return lower[r * width + k];
    }

    public double upper(int r, int k) {
        return upper[r * width + k];
    }
}
