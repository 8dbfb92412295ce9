package org.robustflow.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A fully connected ReLU classifier: dense layers with ReLU between them and none after the last.
 *
 * <p>Inputs are pixels in [0,1] (value/255), outputs are logits. Immutable and safe to share
 * between threads. The version is a hash of architecture and weights, so two equal networks have
 * equal versions wherever they were trained or imported.
 */
public final class Network {
    private final List<Layer> layers;
    private final List<DenseLayer> denseLayers;
    private final String version;

    /** Dense layers in order; ReLU is applied after every one but the last. */
    public Network(List<DenseLayer> denseLayers) {
        if (denseLayers.isEmpty()) {
            throw new IllegalArgumentException("a network needs at least one layer");
        }
        List<Layer> all = new ArrayList<>();
        for (int i = 0; i < denseLayers.size(); i++) {
            DenseLayer layer = denseLayers.get(i);
            if (i > 0 && layer.inputSize() != denseLayers.get(i - 1).outputSize()) {
                throw new IllegalArgumentException(
                        "layer "
                                + i
                                + " takes "
                                + layer.inputSize()
                                + " inputs but layer "
                                + (i - 1)
                                + " gives "
                                + denseLayers.get(i - 1).outputSize());
            }
            all.add(layer);
            if (i < denseLayers.size() - 1) {
                all.add(new ReluLayer(layer.outputSize()));
            }
        }
        this.denseLayers = List.copyOf(denseLayers);
        this.layers = List.copyOf(all);
        this.version = computeVersion();
    }

    /** All layers, dense and ReLU, in order. */
    public List<Layer> layers() {
        return layers;
    }

    public List<DenseLayer> denseLayers() {
        return denseLayers;
    }

    public int inputSize() {
        return denseLayers.get(0).inputSize();
    }

    public int numClasses() {
        return denseLayers.get(denseLayers.size() - 1).outputSize();
    }

    /** Layer widths, input first: 784-50-50-50-10 for the default model. */
    public String architecture() {
        StringBuilder s = new StringBuilder().append(inputSize());
        for (DenseLayer layer : denseLayers) {
            s.append('-').append(layer.outputSize());
        }
        return s.toString();
    }

    /** Number of hidden ReLU neurons. */
    public int hiddenNeurons() {
        int n = 0;
        for (int i = 0; i < denseLayers.size() - 1; i++) {
            n += denseLayers.get(i).outputSize();
        }
        return n;
    }

    public String version() {
        return version;
    }

    /**
     * Logits of one input, in double with plain loops: the reference used to re-check witnesses.
     */
    public double[] logits(double[] x) {
        double[] h = x;
        for (Layer layer : layers) {
            h = layer.forward(h);
        }
        return h;
    }

    /** Logits of a batch [batch, inputSize] in double; the input is not modified. */
    public INDArray logits(INDArray batch) {
        // The first layer is dense and writes a new array, so the input stays untouched.
        INDArray h = batch.castTo(DataType.DOUBLE);
        for (Layer layer : layers) {
            h = layer.forward(h);
        }
        return h;
    }

    public int predict(double[] x) {
        return argMax(logits(x));
    }

    /** Index of the largest value; the first one on ties. */
    public static int argMax(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }

    private String computeVersion() {
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        sha.update("mlp-relu/1".getBytes(StandardCharsets.UTF_8));
        ByteBuffer buf = ByteBuffer.allocate(8);
        for (DenseLayer layer : denseLayers) {
            buf.clear();
            buf.putInt(layer.inputSize()).putInt(layer.outputSize());
            sha.update(buf.array());
            for (int o = 0; o < layer.outputSize(); o++) {
                for (int i = 0; i < layer.inputSize(); i++) {
                    buf.clear();
                    sha.update(buf.putLong(Double.doubleToLongBits(layer.weight(o, i))).array());
                }
                buf.clear();
                sha.update(buf.putLong(Double.doubleToLongBits(layer.bias(o))).array());
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    }
}
