package org.robustflow.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Affine layer y = W x + b.
 *
 * <p>{@code weight} is row-major [out][in] (PyTorch's {@code nn.Linear} layout). The ND4J path
 * works on row batches, so it multiplies by the transpose, [in, out], cached in double on first
 * use.
 */
public final class DenseLayer implements Layer {
    private final double[][] weight;
    private final double[] bias;

    /** W transposed, [in][out]. */
    private final double[][] columns;

    private volatile INDArray weightT;
    private volatile INDArray biasRow;
    private volatile INDArray weightMatrix;

    public DenseLayer(double[][] weight, double[] bias) {
        if (weight.length == 0 || weight.length != bias.length) {
            throw new IllegalArgumentException(
                    "weight has "
                            + weight.length
                            + " rows but bias has "
                            + bias.length
                            + " entries");
        }
        int in = weight[0].length;
        for (double[] row : weight) {
            if (row.length != in) {
                throw new IllegalArgumentException(
                        "weight rows differ in length: " + in + " and " + row.length);
            }
        }
        this.weight = deepCopy(weight);
        this.bias = bias.clone();
        this.columns = new double[in][weight.length];
        for (int o = 0; o < weight.length; o++) {
            for (int i = 0; i < in; i++) {
                columns[i][o] = weight[o][i];
            }
        }
    }

    @Override
    public int inputSize() {
        return weight[0].length;
    }

    @Override
    public int outputSize() {
        return weight.length;
    }

    public double weight(int out, int in) {
        return weight[out][in];
    }

    public double bias(int out) {
        return bias[out];
    }

    public double[] biases() {
        return bias.clone();
    }

    @Override
    public double[] forward(double[] x) {
        if (x.length != inputSize()) {
            throw new IllegalArgumentException(
                    "input has " + x.length + " values, layer expects " + inputSize());
        }
        // Column by column (axpy order) so the JIT vectorises the inner loop; zero inputs (most
        // MNIST
        // pixels, inactive ReLUs) are skipped.
        double[] y = bias.clone();
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            if (xi != 0.0) {
                double[] column = columns[i];
                for (int o = 0; o < y.length; o++) {
                    y[o] += column[o] * xi;
                }
            }
        }
        return y;
    }

    @Override
    public double[] backward(double[] x, double[] gradOutput) {
        double[] down = new double[inputSize()];
        for (int o = 0; o < gradOutput.length; o++) {
            double g = gradOutput[o];
            if (g != 0) {
                double[] row = weight[o];
                for (int i = 0; i < down.length; i++) {
                    down[i] += g * row[i];
                }
            }
        }
        return down;
    }

    @Override
    public INDArray forward(INDArray batch) {
        return batch.mmul(weightT()).addiRowVector(biasRow());
    }

    /** W transposed, [in, out], double. Shared and read-only. */
    public INDArray weightT() {
        INDArray w = weightT;
        if (w == null) {
            w = Nd4j.create(deepCopy(weight)).castTo(DataType.DOUBLE).transpose().dup('c');
            weightT = w;
        }
        return w;
    }

    /** W as an ND4J matrix [out, in], double. Shared and read-only. */
    public INDArray weightMatrix() {
        INDArray w = weightMatrix;
        if (w == null) {
            w = Nd4j.create(deepCopy(weight)).castTo(DataType.DOUBLE).dup('c');
            weightMatrix = w;
        }
        return w;
    }

    /** b as a [1, out] row, double. Shared and read-only. */
    public INDArray biasRow() {
        INDArray b = biasRow;
        if (b == null) {
            b = Nd4j.create(bias.clone(), new long[] {1, bias.length}, DataType.DOUBLE);
            biasRow = b;
        }
        return b;
    }

    private static double[][] deepCopy(double[][] m) {
        double[][] copy = new double[m.length][];
        for (int i = 0; i < m.length; i++) {
            copy[i] = m[i].clone();
        }
        return copy;
    }
}
