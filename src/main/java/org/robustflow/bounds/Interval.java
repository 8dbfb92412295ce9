package org.robustflow.bounds;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Element-wise bounds {@code lower <= v <= upper} for a batch of vectors: two double arrays of shape
 * [batch, n]. Row r bounds the r-th (image, eps) pair.
 */
public record Interval(INDArray lower, INDArray upper) {
    public Interval {
        if (lower.dataType() != DataType.DOUBLE || upper.dataType() != DataType.DOUBLE) {
            throw new IllegalArgumentException("bounds are kept in double");
        }
        if (!java.util.Arrays.equals(lower.shape(), upper.shape()) || lower.rank() != 2) {
            throw new IllegalArgumentException("lower and upper must have the same [batch, n] shape");
        }
    }

    /** Wraps flat row-major arrays of {@code rows * cols} values. */
    public static Interval of(double[] lower, double[] upper, int rows, int cols) {
        long[] shape = {rows, cols};
        return new Interval(Nd4j.create(lower, shape, DataType.DOUBLE), Nd4j.create(upper, shape, DataType.DOUBLE));
    }

    public int batchSize() {
        return (int) lower.size(0);
    }

    public int width() {
        return (int) lower.size(1);
    }

    /** Bounds of one row as plain arrays: {lower, upper}. */
    public double[][] row(int r) {
        return new double[][] {lower.getRow(r).toDoubleVector(), upper.getRow(r).toDoubleVector()};
    }
}
