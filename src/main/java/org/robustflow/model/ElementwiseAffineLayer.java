package org.robustflow.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Element-wise y_i = scale_i x_i + shift_i: input normalisation ((x - mean) / std) and other
 * constant Sub/Div/Mul/Add operands of imported networks, kept as its own layer so that its bounds
 * stay exact instead of being folded into the next dense layer's weights.
 */
public final class ElementwiseAffineLayer implements Layer {
    private final double[] scale;
    private final double[] shift;
    private volatile INDArray scaleRow;
    private volatile INDArray shiftRow;

    public ElementwiseAffineLayer(double[] scale, double[] shift) {
        if (scale.length == 0 || scale.length != shift.length) {
            throw new IllegalArgumentException(
                    "scale has " + scale.length + " entries but shift has " + shift.length);
        }
        for (double v : scale) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("scale must be finite, got " + v);
            }
        }
        for (double v : shift) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException("shift must be finite, got " + v);
            }
        }
        this.scale = scale.clone();
        this.shift = shift.clone();
    }

    @Override
    public int inputSize() {
        return scale.length;
    }

    @Override
    public int outputSize() {
        return scale.length;
    }

    public double scale(int i) {
        return scale[i];
    }

    public double shift(int i) {
        return shift[i];
    }

    @Override
    public double[] forward(double[] x) {
        if (x.length != scale.length) {
            throw new IllegalArgumentException(
                    "input has " + x.length + " values, layer expects " + scale.length);
        }
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = scale[i] * x[i] + shift[i];
        }
        return y;
    }

    @Override
    public double[] backward(double[] x, double[] gradOutput) {
        double[] down = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            down[i] = scale[i] * gradOutput[i];
        }
        return down;
    }

    @Override
    public INDArray forward(INDArray batch) {
        INDArray s = scaleRow;
        INDArray b = shiftRow;
        if (s == null || b == null) {
            s = Nd4j.create(scale.clone(), new long[] {1, scale.length}, DataType.DOUBLE);
            b = Nd4j.create(shift.clone(), new long[] {1, shift.length}, DataType.DOUBLE);
            scaleRow = s;
            shiftRow = b;
        }
        return batch.mulRowVector(s).addiRowVector(b);
    }
}
