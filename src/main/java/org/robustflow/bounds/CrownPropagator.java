package org.robustflow.bounds;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear-relaxation bounds (CROWN / DeepPoly back-substitution) for one (image, eps) pair.
 *
 * <p>Every hidden pre-activation is bounded by back-substituting linear bounds through all earlier
 * layers down to the input box, with ReLUs relaxed by {@link ReluBounds#backSubstitute}; the result
 * is intersected with the box bounds, so it is never looser. The final check bounds the margins
 * logit_y - logit_j directly: the margin matrix is folded into the last layer before
 * back-substitution.
 *
 * <p><b>Rounding.</b> Relaxation slopes lie in [0, 1] and intercepts are below the magnitude of the
 * previous layer's bounds, so every term summed while back-substituting to layer k is bounded in
 * magnitude by G_k = |W_k| G_{k-1} + |b_k|, G_0 = max(|lower|, |upper|) of the input: the box
 * magnitude. With at most 2 d products of inner size at most n (d dense layers), the accumulated
 * rounding error is below 2 d (n + 4) u G_k; bounds are widened by twice that (relative factor 4 d
 * (n + 2) u, about 3e-12 for the default model), which also covers the rounding of the relaxation
 * slopes and intercepts.
 */
public final class CrownPropagator {
    private static final double UNIT_ROUNDOFF = 0x1p-53;

    private final Network mlp;
    private final List<LayerBounds> layers;
    private final BoundPropagator box;
    private final double relative;

    /** Bounds of one row: hidden pre-activations and margin lower bounds. */
    public record RowBounds(
            List<double[][]> hiddenPreActivations, double[] marginLower, int unstableRelus) {}

    public CrownPropagator(Network mlp) {
        this.mlp = mlp;
        List<LayerBounds> bounds = new ArrayList<>();
        int widest = 0;
        for (Layer layer : mlp.layers()) {
            bounds.add(LayerBounds.of(layer));
            widest = Math.max(widest, layer.inputSize());
        }
        this.layers = List.copyOf(bounds);
        this.box = new BoundPropagator(mlp);
        this.relative = 4.0 * mlp.denseLayers().size() * (widest + 2.0) * UNIT_ROUNDOFF;
    }

    /**
     * @param lower input box lower bounds (one row)
     * @param label the class whose margins are bounded; {@code marginLower[label]} is +infinity
     */
    public RowBounds bound(double[] lower, double[] upper, int label) {
        List<DenseLayer> dense = mlp.denseLayers();
        List<Interval> boxBounds = box.preActivations(new Interval(lower, upper, 1, lower.length));
        double[][] magnitude = magnitudes(lower, upper);

        // pre.get(i) = {lower, upper} of dense layer i's output. The first affine layer's box
        // bounds are
        // already exact per neuron.
        List<double[][]> pre = new ArrayList<>();
        pre.add(boxBounds.get(0).row(0));
        for (int i = 1; i < dense.size() - 1; i++) {
            int width = dense.get(i).outputSize();
            LinearBounds lb =
                    backSubstitute(
                            LinearBounds.exactly(identity(width), width, width, true), 2 * i, pre);
            double[][] c = lb.concretize(lower, upper);
            double[][] b = boxBounds.get(i).row(0);
            for (int k = 0; k < width; k++) {
                double guard = relative * magnitude[i][k];
                c[0][k] = Math.max(c[0][k] - guard, b[0][k]);
                c[1][k] = Math.min(c[1][k] + guard, b[1][k]);
            }
            pre.add(c);
        }

        int last = dense.size() - 1;
        int classes = mlp.numClasses();
        double[] margins = new double[classes * classes];
        for (int j = 0; j < classes; j++) {
            margins[j * classes + label] += 1;
            margins[j * classes + j] -= 1;
        }
        LinearBounds lb =
                backSubstitute(
                        LinearBounds.exactly(margins, classes, classes, false), 2 * last, pre);
        double[] marginLower = lb.concretize(lower, upper)[0];
        double[][] logits = boxBounds.get(last).row(0);
        for (int j = 0; j < classes; j++) {
            if (j == label) {
                marginLower[j] = Double.POSITIVE_INFINITY;
                continue;
            }
            double guard = relative * (magnitude[last][label] + magnitude[last][j]);
            // The box margin bound is sound too: keep the better of the two.
            marginLower[j] = Math.max(marginLower[j] - guard, logits[0][label] - logits[1][j]);
        }
        int unstable = 0;
        for (double[][] b : pre) {
            for (int k = 0; k < b[0].length; k++) {
                if (b[0][k] < 0 && b[1][k] > 0) {
                    unstable++;
                }
            }
        }
        return new RowBounds(pre, marginLower, unstable);
    }

    /** Back-substitutes bounds over the output of layer {@code from} down to the network input. */
    private LinearBounds backSubstitute(LinearBounds over, int from, List<double[][]> pre) {
        LinearBounds lb = over;
        for (int index = from; index >= 0; index--) {
            if (mlp.layers().get(index) instanceof ReluLayer) {
                double[][] in = pre.get(index / 2);
                lb = layers.get(index).backSubstitute(lb, in[0], in[1]);
            } else {
                lb = layers.get(index).backSubstitute(lb, null, null);
            }
        }
        return lb;
    }

    /** G_k per dense layer (see the class comment). */
    private double[][] magnitudes(double[] lower, double[] upper) {
        List<DenseLayer> dense = mlp.denseLayers();
        double[][] g = new double[dense.size()][];
        double[] previous = new double[lower.length];
        for (int k = 0; k < lower.length; k++) {
            previous[k] = Math.max(Math.abs(lower[k]), Math.abs(upper[k]));
        }
        for (int i = 0; i < dense.size(); i++) {
            DenseLayer layer = dense.get(i);
            double[] next = new double[layer.outputSize()];
            for (int o = 0; o < next.length; o++) {
                double sum = Math.abs(layer.bias(o));
                for (int k = 0; k < previous.length; k++) {
                    sum += Math.abs(layer.weight(o, k)) * previous[k];
                }
                next[o] = sum;
            }
            g[i] = next;
            previous = next;
        }
        return g;
    }

    private static double[] identity(int n) {
        double[] a = new double[n * n];
        for (int k = 0; k < n; k++) {
            a[k * n + k] = 1;
        }
        return a;
    }
}
