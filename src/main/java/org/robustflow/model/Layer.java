package org.robustflow.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One layer of a feed-forward network.
 *
 * <p>Two forward paths: a plain double loop for single points (the reference every counterexample
 * is re-checked with) and a batched ND4J path ({@code [batch, in] -> [batch, out]}). Bound methods
 * live in {@code bounds/}, one implementation per layer type.
 */
public sealed interface Layer permits DenseLayer, ReluLayer, ElementwiseAffineLayer {
    int inputSize();

    int outputSize();

    double[] forward(double[] x);

    INDArray forward(INDArray batch);

    /**
     * The gradient with respect to the input, given the gradient {@code gradOutput} with respect to
     * the output at input {@code x} (a vector-Jacobian product; for ReLU the subgradient 0 at 0).
     * The attack's backward pass.
     */
    double[] backward(double[] x, double[] gradOutput);
}
