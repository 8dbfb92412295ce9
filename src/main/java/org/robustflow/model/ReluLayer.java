package org.robustflow.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/** Element-wise max(0, x). */
public record ReluLayer(int size) implements Layer {
    @Override
    public int inputSize() {
        return size;
    }

    @Override
    public int outputSize() {
        return size;
    }

    @Override
    public double[] forward(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0.0, x[i]);
        }
        return y;
    }

    @Override
    public double[] backward(double[] x, double[] gradOutput) {
        double[] down = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            down[i] = x[i] > 0 ? gradOutput[i] : 0;
        }
        return down;
    }

    @Override
    public INDArray forward(INDArray batch) {
        return Transforms.relu(batch, true);
    }
}
