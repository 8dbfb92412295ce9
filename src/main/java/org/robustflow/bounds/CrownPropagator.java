package org.robustflow.bounds;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

import java.util.ArrayList;
import java.util.List;

/**
 * Linear-relaxation bounds (CROWN / DeepPoly back-substitution) over a layer sequence, for one
 * input box.
 *
 * <p>Layer by layer, the input of every ReLU is first bounded by box propagation from the previous
 * layer's (already tightened) bounds; only the neurons that box leaves unstable are then bounded by
 * back-substituting linear bounds through all earlier layers down to the input box (stable neurons
 * are relaxed exactly whatever their bounds, so tightening them would change nothing), and the
 * result is intersected with the box bounds. Finally the rows of an output specification (c . y)
 * are back-substituted from the output: folding them into the last layer bounds c . y directly,
 * which is tighter than combining bounds of the single outputs.
 *
 * <p><b>Rounding (lemma).</b> Let G_0 = max(|lower|, |upper|) element-wise for the input box and G
 * propagate as |W| G + |b| through dense layers, |a| G + |s| through element-wise affine ones and
 * unchanged through ReLU (|max(0, x)| &lt;= |x|). Relaxation slopes lie in [0, 1] and intercepts
 * are at most the magnitude of the bounds they come from, so every term of every sum formed while
 * back-substituting a row with coefficients c over layer k's output -- the products A W, the
 * constants C + A b and C + A s, the relaxation intercepts and the final concretisation C + A
 * centre - |A| radius -- is bounded in magnitude by |c| . G_k. Each such sum has at most n + 2
 * terms (n the widest layer), so by Higham's bound (eq. 3.5) each adds at most gamma_{n+2} |c| .
 * G_k to the error, and a row passes through at most d sums of each kind (d the non-ReLU layers)
 * plus the concretisation: at most 2 d (n + 4) u |c| . G_k in all. The bounds are widened by twice
 * that, relative factor 4 d (n + 2) u: about 3e-12 for the default model.
 */
public final class CrownPropagator {
    private static final double UNIT_ROUNDOFF = 0x1p-53;

    private final Network network;
    private final List<Layer> layers;
    private final List<LayerBounds> bounds;
    private final double relative;

    /** |W| row-major [out][in] per dense layer (null for other layers), for the magnitudes G. */
    private final double[][] absWeights;

    /**
     * Bounds of one box.
     *
     * @param hiddenPreActivations {lower, upper} of the input of every ReLU layer, in order
     * @param marginLower per class j: lower bound of logit_label - logit_j ({@link #bound});
     *     +infinity at the label
     */
    public record RowBounds(
            List<double[][]> hiddenPreActivations, double[] marginLower, int unstableRelus) {}

    /**
     * Bounds of one box against an output specification.
     *
     * @param rowLower per constraint of {@link #rows}: a sound lower bound of c . y
     * @param rows the spec's constraints, flattened disjunct by disjunct
     */
    public record SpecBounds(
            List<double[][]> hiddenPreActivations,
            List<LinearConstraint> rows,
            double[] rowLower,
            int unstableRelus) {}

    public CrownPropagator(Network network) {
        this.network = network;
        this.layers = network.layers();
        List<LayerBounds> b = new ArrayList<>();
        int widest = network.inputSize();
        int affine = 0;
        for (Layer layer : layers) {
            b.add(LayerBounds.of(layer));
            widest = Math.max(widest, Math.max(layer.inputSize(), layer.outputSize()));
            if (!(layer instanceof ReluLayer)) {
                affine++;
            }
        }
        this.bounds = List.copyOf(b);
        this.absWeights = new double[layers.size()][];
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof DenseLayer dense) {
                double[] abs = new double[dense.outputSize() * dense.inputSize()];
                for (int o = 0; o < dense.outputSize(); o++) {
                    for (int k = 0; k < dense.inputSize(); k++) {
                        abs[o * dense.inputSize() + k] = Math.abs(dense.weight(o, k));
                    }
                }
                absWeights[i] = abs;
            }
        }
        this.relative = 4.0 * affine * (widest + 2.0) * UNIT_ROUNDOFF;
    }

    public Network model() {
        return network;
    }

    /**
     * Margin bounds for a classifier: lower bounds of logit_label - logit_j for every j.
     *
     * @param label the class whose margins are bounded; {@code marginLower[label]} is +infinity
     */
    public RowBounds bound(double[] lower, double[] upper, int label) {
        int classes = network.numClasses();
        SpecBounds s = bound(lower, upper, OutputSpec.robustness(classes, label));
        double[] margin = new double[classes];
        margin[label] = Double.POSITIVE_INFINITY;
        int row = 0;
        for (int j = 0; j < classes; j++) {
            if (j != label) {
                margin[j] = s.rowLower()[row++];
            }
        }
        return new RowBounds(s.hiddenPreActivations(), margin, s.unstableRelus());
    }

    /** Sound lower bounds of c . y for every constraint of {@code spec} over the box. */
    public SpecBounds bound(double[] lower, double[] upper, OutputSpec spec) {
        if (lower.length != network.inputSize()) {
            throw new IllegalArgumentException(
                    "box has " + lower.length + " inputs, network takes " + network.inputSize());
        }
        if (spec.outputs() != network.numClasses()) {
            throw new IllegalArgumentException(
                    "spec is over "
                            + spec.outputs()
                            + " outputs, network has "
                            + network.numClasses());
        }
        double[][] magnitude = magnitudes(lower, upper);
        // out.get(i) = {lower, upper} of layer i's output.
        List<double[][]> out = new ArrayList<>();
        List<double[][]> reluInputs = new ArrayList<>();
        int unstable = 0;
        double[][] previous = {lower, upper};
        // Box bounds are exact per neuron while the set of values is itself a box (element-wise
        // layers only) and after one dense layer on such a set; back-substitution can't beat them.
        boolean setIsBox = true;
        boolean exactPerNeuron = true;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            Interval box =
                    bounds.get(i)
                            .box(new Interval(previous[0], previous[1], 1, previous[0].length));
            double[][] current = {box.lower(), box.upper()};
            if (layer instanceof DenseLayer) {
                exactPerNeuron = setIsBox;
                setIsBox = false;
            }
            boolean feedsRelu = i + 1 < layers.size() && layers.get(i + 1) instanceof ReluLayer;
            if (feedsRelu && !exactPerNeuron) {
                tighten(i, current, magnitude[i], lower, upper, out);
            }
            if (layer instanceof ReluLayer) {
                reluInputs.add(previous);
                for (int k = 0; k < previous[0].length; k++) {
                    if (previous[0][k] < 0 && previous[1][k] > 0) {
                        unstable++;
                    }
                }
            }
            out.add(current);
            previous = current;
        }

        List<LinearConstraint> rows = new ArrayList<>();
        for (List<LinearConstraint> conjunct : spec.disjuncts()) {
            rows.addAll(conjunct);
        }
        int outputs = spec.outputs();
        double[] c = new double[rows.size() * outputs];
        for (int q = 0; q < rows.size(); q++) {
            for (int k = 0; k < outputs; k++) {
                c[q * outputs + k] = rows.get(q).coefficient(k);
            }
        }
        LinearBounds lb =
                backSubstitute(
                        LinearBounds.exactly(c, rows.size(), outputs, false),
                        layers.size() - 1,
                        lower,
                        upper,
                        out);
        double[] rowLower = lb.concretize(lower, upper)[0];
        double[][] logits = out.get(layers.size() - 1);
        double[] g = magnitude[layers.size() - 1];
        for (int q = 0; q < rows.size(); q++) {
            double weighted = 0;
            double boxLower = 0;
            for (int k = 0; k < outputs; k++) {
                double ck = c[q * outputs + k];
                weighted += Math.abs(ck) * g[k];
                boxLower += ck > 0 ? ck * logits[0][k] : ck * logits[1][k];
            }
            double guard = relative * weighted;
            // The box bound of c . y is sound too (same guard covers its sum): keep the better.
            rowLower[q] = Math.max(rowLower[q] - guard, boxLower - guard);
        }
        return new SpecBounds(reluInputs, rows, rowLower, unstable);
    }

    /**
     * Replaces the box bounds of layer {@code index}'s unstable outputs by back-substituted ones
     * where tighter.
     */
    private void tighten(
            int index,
            double[][] current,
            double[] magnitude,
            double[] lower,
            double[] upper,
            List<double[][]> out) {
        int width = current[0].length;
        int[] unstable = new int[width];
        int count = 0;
        for (int k = 0; k < width; k++) {
            if (current[0][k] < 0 && current[1][k] > 0) {
                unstable[count++] = k;
            }
        }
        if (count == 0) {
            return;
        }
        double[] a = new double[count * width];
        for (int q = 0; q < count; q++) {
            a[q * width + unstable[q]] = 1;
        }
        LinearBounds lb =
                backSubstitute(
                        LinearBounds.exactly(a, count, width, true), index, lower, upper, out);
        double[][] c = lb.concretize(lower, upper);
        for (int q = 0; q < count; q++) {
            int k = unstable[q];
            double guard = relative * magnitude[k];
            current[0][k] = Math.max(c[0][q] - guard, current[0][k]);
            current[1][k] = Math.min(c[1][q] + guard, current[1][k]);
        }
    }

    /**
     * Back-substitutes bounds over the output of layer {@code from} down to the network input;
     * {@code out} holds the bounds of layers before {@code from}.
     */
    private LinearBounds backSubstitute(
            LinearBounds over, int from, double[] lower, double[] upper, List<double[][]> out) {
        LinearBounds lb = over;
        for (int index = from; index >= 0; index--) {
            if (layers.get(index) instanceof ReluLayer) {
                double[][] in = index == 0 ? new double[][] {lower, upper} : out.get(index - 1);
                lb = bounds.get(index).backSubstitute(lb, in[0], in[1]);
            } else {
                lb = bounds.get(index).backSubstitute(lb, null, null);
            }
        }
        return lb;
    }

    /** G_k per layer output (see the class comment). */
    private double[][] magnitudes(double[] lower, double[] upper) {
        double[][] g = new double[layers.size()][];
        double[] previous = new double[lower.length];
        for (int k = 0; k < lower.length; k++) {
            previous[k] = Math.max(Math.abs(lower[k]), Math.abs(upper[k]));
        }
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            double[] next;
            if (layer instanceof DenseLayer dense) {
                next = new double[dense.outputSize()];
                for (int o = 0; o < next.length; o++) {
                    next[o] =
                            Math.abs(dense.bias(o))
                                    + LinearBounds.dot(
                                            absWeights[i],
                                            o * previous.length,
                                            previous,
                                            previous.length);
                }
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                next = new double[previous.length];
                for (int k = 0; k < next.length; k++) {
                    next[k] = Math.abs(affine.scale(k)) * previous[k] + Math.abs(affine.shift(k));
                }
            } else {
                next = previous;
            }
            g[i] = next;
            previous = next;
        }
        return g;
    }
}
