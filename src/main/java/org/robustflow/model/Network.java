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
 * A feed-forward classifier as a sequence of layers (dense, ReLU, element-wise affine); an MLP is
 * the case of dense layers with ReLU between them and none after the last.
 *
 * <p>Inputs are pixels in [0,1] (value/255) for MNIST models, outputs are logits. Immutable and
 * safe to share between threads. The version is a hash of architecture and weights, so two equal
 * networks have equal versions wherever they were trained or imported; for an MLP the hash is the
 * one older model files carry ({@code mlp-relu/1}).
 */
public final class Network {
    private final List<Layer> layers;
    private final List<DenseLayer> denseLayers;
    private final String version;

    /** Layers in order; each takes as many inputs as the one before gives. */
    public Network(List<? extends Layer> layers) {
        if (layers.isEmpty()) {
            throw new IllegalArgumentException("a network needs at least one layer");
        }
        List<DenseLayer> dense = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (i > 0 && layer.inputSize() != layers.get(i - 1).outputSize()) {
                throw new IllegalArgumentException(
                        "layer "
                                + i
                                + " takes "
                                + layer.inputSize()
                                + " inputs but layer "
                                + (i - 1)
                                + " gives "
                                + layers.get(i - 1).outputSize());
            }
            if (layer instanceof DenseLayer d) {
                dense.add(d);
            }
        }
        this.layers = List.copyOf(layers);
        this.denseLayers = List.copyOf(dense);
        this.version = computeVersion();
    }

    /** Dense layers in order with ReLU after every one but the last. */
    public static Network mlp(List<DenseLayer> denseLayers) {
        List<Layer> all = new ArrayList<>();
        for (int i = 0; i < denseLayers.size(); i++) {
            all.add(denseLayers.get(i));
            if (i < denseLayers.size() - 1) {
                all.add(new ReluLayer(denseLayers.get(i).outputSize()));
            }
        }
        return new Network(all);
    }

    /** Whether this is dense layers with ReLU between them and none after the last. */
    public boolean isMlp() {
        if (layers.size() != 2 * denseLayers.size() - 1) {
            return false;
        }
        for (int i = 0; i < layers.size(); i++) {
            if ((i % 2 == 0) != (layers.get(i) instanceof DenseLayer)) {
                return false;
            }
        }
        return true;
    }

    /** All layers, dense and ReLU, in order. */
    public List<Layer> layers() {
        return layers;
    }

    public List<DenseLayer> denseLayers() {
        return denseLayers;
    }

    public int inputSize() {
        return layers.get(0).inputSize();
    }

    public int numClasses() {
        return layers.get(layers.size() - 1).outputSize();
    }

    /**
     * Layer widths, input first: 784-50-50-50-10 for the default model; other layers than dense and
     * ReLU are named in brackets, e.g. 784-[affine]-256-256-10.
     */
    public String architecture() {
        StringBuilder s = new StringBuilder().append(inputSize());
        for (Layer layer : layers) {
            if (layer instanceof DenseLayer) {
                s.append('-').append(layer.outputSize());
            } else if (layer instanceof ElementwiseAffineLayer) {
                s.append("-[affine]");
            }
        }
        return s.toString();
    }

    /** Number of ReLU neurons. */
    public int hiddenNeurons() {
        int n = 0;
        for (Layer layer : layers) {
            if (layer instanceof ReluLayer) {
                n += layer.outputSize();
            }
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

    /**
     * Logits of one input with a bound on the rounding error of {@link #logits(double[])}: {logits,
     * errorBound}, |computed - exact| &lt;= errorBound per output.
     *
     * <p>A dense output b + sum W x computed in any order errs by at most gamma_{n+1} (|b| + sum
     * |W| |x|) (Higham eq. 3.5) plus sum |W| e for input errors e; element-wise a x + s by 2u (|a
     * x| + |s|) plus |a| e; ReLU passes errors through without growing them. Doubled for the
     * rounding of this bound's own arithmetic.
     */
    public double[][] logitsWithErrorBound(double[] x) {
        double[] h = x;
        double[] error = new double[x.length];
        for (Layer layer : layers) {
            double[] next = layer.forward(h);
            double[] nextError = new double[next.length];
            if (layer instanceof DenseLayer dense) {
                double gamma = 2 * (dense.inputSize() + 2) * 0x1p-53;
                for (int o = 0; o < next.length; o++) {
                    double magnitude = Math.abs(dense.bias(o));
                    double propagated = 0;
                    for (int i = 0; i < h.length; i++) {
                        double w = Math.abs(dense.weight(o, i));
                        magnitude += w * Math.abs(h[i]);
                        propagated += w * error[i];
                    }
                    nextError[o] = 2 * (propagated + gamma * magnitude) + Double.MIN_NORMAL;
                }
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                for (int i = 0; i < next.length; i++) {
                    double a = Math.abs(affine.scale(i));
                    nextError[i] =
                            2
                                            * (a * error[i]
                                                    + 4
                                                            * 0x1p-53
                                                            * (a * Math.abs(h[i])
                                                                    + Math.abs(affine.shift(i))))
                                    + Double.MIN_NORMAL;
                }
            } else {
                nextError = error;
            }
            h = next;
            error = nextError;
        }
        return new double[][] {h, error};
    }

    /** Logits of a batch [batch, inputSize] in double; the input is not modified. */
    public INDArray logits(INDArray batch) {
        // Every layer's batched forward writes a new array, so the input stays untouched.
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
        ByteBuffer buf = ByteBuffer.allocate(8);
        // An MLP keeps the hash older model files carry; any other sequence names each layer's
        // type.
        boolean mlp = isMlp();
        sha.update((mlp ? "mlp-relu/1" : "net/1").getBytes(StandardCharsets.UTF_8));
        for (Layer layer : layers) {
            if (!mlp) {
                sha.update(layer.getClass().getSimpleName().getBytes(StandardCharsets.UTF_8));
            }
            if (layer instanceof DenseLayer dense) {
                buf.clear();
                buf.putInt(dense.inputSize()).putInt(dense.outputSize());
                sha.update(buf.array());
                for (int o = 0; o < dense.outputSize(); o++) {
                    for (int i = 0; i < dense.inputSize(); i++) {
                        putDouble(sha, buf, dense.weight(o, i));
                    }
                    putDouble(sha, buf, dense.bias(o));
                }
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                for (int i = 0; i < affine.inputSize(); i++) {
                    putDouble(sha, buf, affine.scale(i));
                    putDouble(sha, buf, affine.shift(i));
                }
            } else if (!mlp) {
                buf.clear();
                sha.update(buf.putInt(layer.outputSize()).array(), 0, 4);
            }
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    }

    private static void putDouble(MessageDigest sha, ByteBuffer buf, double value) {
        buf.clear();
        sha.update(buf.putLong(Double.doubleToLongBits(value)).array());
    }
}
