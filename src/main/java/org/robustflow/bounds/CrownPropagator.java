package org.robustflow.bounds;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Linear-relaxation bounds (CROWN / DeepPoly back-substitution) over a layer sequence, for a batch
 * of input boxes (queries) against the shared weights.
 *
 * <p>Layer by layer, the input of every ReLU is first bounded by box propagation from the previous
 * layer's (already tightened) bounds; only the neurons that box leaves unstable are then bounded by
 * back-substituting linear bounds through all earlier layers down to the input box (stable neurons
 * are relaxed exactly whatever their bounds, so tightening them would change nothing), and the
 * result is intersected with the box bounds. Finally the rows of an output specification (c . y)
 * are back-substituted from the output: folding them into the last layer bounds c . y directly,
 * which is tighter than combining bounds of the single outputs. Each row's bound is the best of
 * that, the box bound of c . y, and the box bound with the row folded into the last layer.
 *
 * <p><b>Batching.</b> The rows back-substituted for all queries of a batch are stacked, so each
 * dense layer costs one matrix product per chunk of at most {@link #MAX_ROWS} rows (which also
 * bounds the memory); ReLU relaxations and the concretisation pick each row's query.
 *
 * <p><b>Rounding (lemma).</b> Let G_0 = max(|lower|, |upper|) element-wise for the input box and G
 * propagate as |W| G + |b| through dense layers, |a| G + |s| through element-wise affine ones and
 * unchanged through ReLU (|max(0, x)| &lt;= |x|). Relaxation slopes lie in [0, 1] and intercepts
 * are at most the magnitude of the bounds they come from, so for a row with coefficients c over
 * layer k's output every term formed at one layer while back-substituting it -- the products A W,
 * the terms A b and A s, the relaxation intercepts, and the concretisation's A centre and |A|
 * radius -- is bounded in magnitude by M = |c| . G_k, and each layer's terms sum to at most M in
 * magnitude. The constant C runs across the layers, so it stays below d M (d = non-ReLU layers).
 * Every sum has at most n + 2 terms (n the widest layer) plus the running constant, so by Higham's
 * bound (eq. 3.5) each errs by at most gamma_{n+2} (d + 1) M, and a row passes through at most 2 d
 * + 2 such sums: less than 2 d^2 (n + 4) u M for d &gt;= 2 (products of slopes and intercepts add a
 * few u M more). The bounds are widened by relative factor 4 d^2 (n + 2) u times M: about 6e-12 for
 * the default model, 1.7e-11 for the 7-layer mnist_fc network.
 */
public final class CrownPropagator {
    private static final double UNIT_ROUNDOFF = 0x1p-53;

    /** Covers products that underflow into subnormals, where relative bounds do not hold. */
    private static final double UNDERFLOW_GUARD = 1e-290;

    /** Rows back-substituted together: 2048 rows x 784 inputs x 8 bytes x 4 arrays = 51 MB. */
    static final int MAX_ROWS = 2048;

    private final Network network;
    private final List<Layer> layers;
    private final List<LayerBounds> bounds;
    private final double relative;

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
        this.relative = 4.0 * affine * affine * (widest + 2.0) * UNIT_ROUNDOFF;
    }

    public Network model() {
        return network;
    }

    /**
     * The relative widening factor of the rounding lemma, 4 d^2 (n + 2) u: a bound computed by
     * back-substituting a row of magnitude M (|c| . G, see {@link #magnitudes}) is widened by this
     * times M.
     */
    public double roundingFactor() {
        return relative;
    }

    /** The magnitudes G of the rounding lemma for one box, per layer output. */
    public double[][] magnitudes(double[] lower, double[] upper) {
        return magnitudes(new Interval(lower, upper, 1, lower.length));
    }

    /**
     * Margin bounds for a classifier: lower bounds of logit_label - logit_j for every j.
     *
     * @param label the class whose margins are bounded; {@code marginLower[label]} is +infinity
     */
    public RowBounds bound(double[] lower, double[] upper, int label) {
        int classes = network.numClasses();
        SpecBounds s = bound(lower, upper, OutputSpec.robustness(classes, label));
        return new RowBounds(
                s.hiddenPreActivations(), margins(s, label, classes), s.unstableRelus());
    }

    /** The margins logit_label - logit_j from the rows of {@link OutputSpec#robustness}. */
    static double[] margins(SpecBounds s, int label, int classes) {
        double[] margin = new double[classes];
        margin[label] = Double.POSITIVE_INFINITY;
        int row = 0;
        for (int j = 0; j < classes; j++) {
            if (j != label) {
                margin[j] = s.rowLower()[row++];
            }
        }
        return margin;
    }

    /** Sound lower bounds of c . y for every constraint of {@code spec} over one box. */
    public SpecBounds bound(double[] lower, double[] upper, OutputSpec spec) {
        return bound(new Interval(lower, upper, 1, lower.length), new OutputSpec[] {spec})[0];
    }

    /**
     * Sound lower bounds of c . y for every constraint of {@code specs[q]} over box q of {@code
     * inputs} ([queries, inputSize]).
     */
    public SpecBounds[] bound(Interval inputs, OutputSpec[] specs) {
        return bound(inputs, specs, null);
    }

    /**
     * As {@link #bound(Interval, OutputSpec[])}, each query restricted to the subdomain of its ReLU
     * split decisions ({@code splits[q]}; null for none). A query whose decisions leave some
     * interval empty has no point at all: its rows get +infinity lower bounds.
     */
    public SpecBounds[] bound(Interval inputs, OutputSpec[] specs, Splits[] splits) {
        return bound(inputs, specs, splits, null);
    }

    /**
     * As {@link #bound(Interval, OutputSpec[], Splits[])}, with known sound bounds of every ReLU's
     * input ({lower, upper} per ReLU layer, in order, holding on every query's box, e.g. optimised
     * ones of the box the subdomains split) intersected into the layer-by-layer bounds.
     */
    public SpecBounds[] bound(
            Interval inputs, OutputSpec[] specs, Splits[] splits, List<double[][]> known) {
        return bound(inputs, specs, splits, known, null);
    }

    /**
     * Bounds of subdomains whose ReLU inputs are already bounded, e.g. by their parent in a branch
     * and bound ({@code reluInputs.get(q)}: {lower, upper} per ReLU layer, holding on query q's
     * subdomain): box propagation intersected with them and with the splits, and only the spec's
     * rows back-substituted. Much cheaper than {@link #bound(Interval, OutputSpec[], Splits[],
     * List)}, which also back-substitutes every unstable intermediate neuron, and as tight as the
     * given bounds.
     */
    public SpecBounds[] boundWithin(
            Interval inputs,
            OutputSpec[] specs,
            Splits[] splits,
            List<List<double[][]>> reluInputs) {
        if (reluInputs.size() != inputs.rows()) {
            throw new IllegalArgumentException(
                    inputs.rows() + " boxes but " + reluInputs.size() + " ReLU input bounds");
        }
        return bound(inputs, specs, splits, null, reluInputs);
    }

    private SpecBounds[] bound(
            Interval inputs,
            OutputSpec[] specs,
            Splits[] splits,
            List<double[][]> known,
            List<List<double[][]>> knownPerQuery) {
        int queries = inputs.rows();
        if (inputs.width() != network.inputSize()) {
            throw new IllegalArgumentException(
                    "boxes have "
                            + inputs.width()
                            + " inputs, network takes "
                            + network.inputSize());
        }
        if (specs.length != queries) {
            throw new IllegalArgumentException(queries + " boxes but " + specs.length + " specs");
        }
        for (OutputSpec spec : specs) {
            if (spec.outputs() != network.numClasses()) {
                throw new IllegalArgumentException(
                        "spec is over "
                                + spec.outputs()
                                + " outputs, network has "
                                + network.numClasses());
            }
        }
        double[][] magnitude = magnitudes(inputs);
        Concretizer concretizer = new Concretizer(inputs);
        Interval[] out = new Interval[layers.size()];
        boolean[] empty = new boolean[queries];
        // Box bounds are exact per neuron while the set of values is itself a box (element-wise
        // layers only) and after one dense layer on such a set; back-substitution can't beat them.
        boolean setIsBox = true;
        boolean exactPerNeuron = true;
        Interval previous = inputs;
        int relu = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            Interval current = bounds.get(i).box(previous);
            if (layer instanceof DenseLayer) {
                exactPerNeuron = setIsBox;
                setIsBox = false;
            }
            boolean feedsRelu = i + 1 < layers.size() && layers.get(i + 1) instanceof ReluLayer;
            if (feedsRelu && known != null) {
                intersect(current, known.get(relu));
            }
            if (feedsRelu && knownPerQuery != null) {
                for (int q = 0; q < queries; q++) {
                    intersect(current, q, knownPerQuery.get(q).get(relu));
                }
            }
            if (feedsRelu) {
                relu++;
            }
            if (feedsRelu && splits != null) {
                for (int q = 0; q < queries; q++) {
                    if (splits[q] != null && !splits[q].clamp(i, current, q)) {
                        empty[q] = true;
                    }
                }
            }
            if (feedsRelu && !exactPerNeuron && knownPerQuery == null) {
                tighten(i, current, magnitude[i], concretizer, out);
            }
            out[i] = current;
            previous = current;
        }
        SpecBounds[] result = specBounds(concretizer, specs, magnitude[layers.size() - 1], out);
        for (int q = 0; q < queries; q++) {
            if (empty[q]) {
                Arrays.fill(result[q].rowLower(), Double.POSITIVE_INFINITY);
            }
        }
        return result;
    }

    /** Narrows query {@code q}'s row of {@code current} to {@code known} ({lower, upper}). */
    private static void intersect(Interval current, int q, double[][] known) {
        double[] lo = current.lower();
        double[] hi = current.upper();
        int width = current.width();
        for (int k = 0; k < width; k++) {
            lo[q * width + k] = Math.max(lo[q * width + k], known[0][k]);
            hi[q * width + k] = Math.min(hi[q * width + k], known[1][k]);
        }
    }

    /** Narrows every query's row of {@code current} to {@code known} ({lower, upper}). */
    private static void intersect(Interval current, double[][] known) {
        double[] lo = current.lower();
        double[] hi = current.upper();
        int width = current.width();
        for (int k = 0; k < lo.length; k++) {
            lo[k] = Math.max(lo[k], known[0][k % width]);
            hi[k] = Math.min(hi[k], known[1][k % width]);
        }
    }

    /**
     * A sound lower bound of c . (W h + b) over the box of h, the last layer's input: the spec
     * folded into the last layer before the interval bound (Gowal et al. 2018, "elision"), sum_i
     * min over [lo_i, hi_i] of (c W)_i h_i, plus c . b. Back-substitution relaxes the last ReLU
     * layer by lines, which can be looser than this exact per-neuron minimum on networks trained
     * with interval bounds.
     *
     * <p>Rounding: (c W)_i errs by at most gamma_m A_i, A_i = sum_j |c_j W_ji| (m outputs), which
     * moves the minimum by at most gamma_m A_i G_i, G = max(|lo|, |hi|); the sum of h + 1 products
     * and c . b errs by at most gamma_{h+m+2} times its absolute terms (Higham eq. 3.5). The guard
     * doubles both, covers the final subtraction, and adds an underflow allowance.
     */
    private static double elidedLower(
            DenseLayer layer, Interval input, int q, double[] c, int offset) {
        int outputs = layer.outputSize();
        int width = layer.inputSize();
        double cb = 0;
        double absCb = 0;
        for (int j = 0; j < outputs; j++) {
            double cj = c[offset + j];
            if (cj != 0) {
                cb += cj * layer.bias(j);
                absCb += Math.abs(cj * layer.bias(j));
            }
        }
        double sum = cb;
        double absTerms = 0;
        for (int i = 0; i < width; i++) {
            double w = 0;
            double a = 0;
            for (int j = 0; j < outputs; j++) {
                double cj = c[offset + j];
                if (cj != 0) {
                    double t = cj * layer.weight(j, i);
                    w += t;
                    a += Math.abs(t);
                }
            }
            double lo = input.lower(q, i);
            double hi = input.upper(q, i);
            sum += w > 0 ? w * lo : w * hi;
            absTerms += (a + Math.abs(w)) * Math.max(Math.abs(lo), Math.abs(hi));
        }
        double n = width + outputs + 2.0;
        double gamma = n * UNIT_ROUNDOFF / (1 - n * UNIT_ROUNDOFF);
        double guard =
                2 * gamma * (absTerms + absCb + Math.abs(cb))
                        + 4 * UNIT_ROUNDOFF * Math.abs(sum)
                        + UNDERFLOW_GUARD;
        return sum - guard;
    }

    private SpecBounds[] specBounds(
            Concretizer concretizer, OutputSpec[] specs, double[] magnitude, Interval[] out) {
        int queries = specs.length;
        int outputs = network.numClasses();
        List<List<LinearConstraint>> rows = new ArrayList<>();
        int total = 0;
        for (OutputSpec spec : specs) {
            List<LinearConstraint> flat = new ArrayList<>();
            for (List<LinearConstraint> conjunct : spec.disjuncts()) {
                flat.addAll(conjunct);
            }
            rows.add(flat);
            total += flat.size();
        }
        double[] rowLower = new double[total];
        int[] rowQuery = new int[total];
        double[] c = new double[total * outputs];
        int r = 0;
        for (int q = 0; q < queries; q++) {
            for (LinearConstraint constraint : rows.get(q)) {
                rowQuery[r] = q;
                for (int k = 0; k < outputs; k++) {
                    c[r * outputs + k] = constraint.coefficient(k);
                }
                r++;
            }
        }
        Interval logits = out[layers.size() - 1];
        Layer last = layers.get(layers.size() - 1);
        Interval lastInput =
                layers.size() >= 2 && last instanceof DenseLayer ? out[layers.size() - 2] : null;
        for (int from = 0; from < total; from += MAX_ROWS) {
            int count = Math.min(MAX_ROWS, total - from);
            double[] lower =
                    concretizer
                            .bounds(
                                    LinearBounds.exactly(
                                            Arrays.copyOfRange(
                                                    c, from * outputs, (from + count) * outputs),
                                            count,
                                            outputs,
                                            false,
                                            Arrays.copyOfRange(rowQuery, from, from + count)),
                                    layers.size() - 1,
                                    out)[0];
            for (int k = 0; k < count; k++) {
                int row = from + k;
                int q = rowQuery[row];
                double weighted = 0;
                double boxLower = 0;
                for (int j = 0; j < outputs; j++) {
                    double cj = c[row * outputs + j];
                    weighted += Math.abs(cj) * magnitude[q * outputs + j];
                    boxLower += cj > 0 ? cj * logits.lower(q, j) : cj * logits.upper(q, j);
                }
                double guard = relative * weighted;
                // The box bound of c . y is sound too (the same guard covers its sum): the better.
                double best = Math.max(lower[k] - guard, boxLower - guard);
                if (lastInput != null) {
                    best =
                            Math.max(
                                    best,
                                    elidedLower((DenseLayer) last, lastInput, q, c, row * outputs));
                }
                rowLower[row] = best;
            }
        }
        SpecBounds[] result = new SpecBounds[queries];
        int start = 0;
        for (int q = 0; q < queries; q++) {
            List<double[][]> reluInputs = new ArrayList<>();
            int unstable = 0;
            for (int i = 1; i < layers.size(); i++) {
                if (layers.get(i) instanceof ReluLayer) {
                    double[][] b = out[i - 1].row(q);
                    reluInputs.add(b);
                    for (int k = 0; k < b[0].length; k++) {
                        if (b[0][k] < 0 && b[1][k] > 0) {
                            unstable++;
                        }
                    }
                }
            }
            int n = rows.get(q).size();
            result[q] =
                    new SpecBounds(
                            reluInputs,
                            rows.get(q),
                            Arrays.copyOfRange(rowLower, start, start + n),
                            unstable);
            start += n;
        }
        return result;
    }

    /**
     * Replaces the box bounds of layer {@code index}'s unstable outputs (every query) by
     * back-substituted ones where tighter: upper bounds first (as lower bounds of -z, which is the
     * same arithmetic negated), then lower bounds only for the neurons still possibly active. A
     * neuron proved inactive is relaxed to 0 whatever its lower bound, and no later step reads it.
     */
    private void tighten(
            int index,
            Interval current,
            double[] magnitude,
            Concretizer concretizer,
            Interval[] out) {
        double[] lo = current.lower();
        double[] hi = current.upper();
        int[] unstable = new int[lo.length];
        int count = 0;
        for (int k = 0; k < lo.length; k++) {
            if (lo[k] < 0 && hi[k] > 0) {
                unstable[count++] = k; // query * width + neuron
            }
        }
        double[] upper = lowerBounds(index, current.width(), unstable, count, -1, concretizer, out);
        int active = 0;
        for (int j = 0; j < count; j++) {
            int flat = unstable[j];
            hi[flat] = Math.min(-upper[j] + relative * magnitude[flat], hi[flat]);
            if (hi[flat] > 0) {
                unstable[active++] = flat;
            }
        }
        double[] lower = lowerBounds(index, current.width(), unstable, active, 1, concretizer, out);
        for (int j = 0; j < active; j++) {
            int flat = unstable[j];
            lo[flat] = Math.max(lower[j] - relative * magnitude[flat], lo[flat]);
        }
    }

    /**
     * Unguarded lower bounds of {@code sign} z for the first {@code count} neurons of {@code flat}
     * (query * width + neuron) of layer {@code index}'s output, in chunks of {@link #MAX_ROWS}.
     */
    private double[] lowerBounds(
            int index,
            int width,
            int[] flat,
            int count,
            int sign,
            Concretizer concretizer,
            Interval[] out) {
        double[] result = new double[count];
        for (int from = 0; from < count; from += MAX_ROWS) {
            int rows = Math.min(MAX_ROWS, count - from);
            double[] a = new double[rows * width];
            int[] rowQuery = new int[rows];
            for (int q = 0; q < rows; q++) {
                int f = flat[from + q];
                rowQuery[q] = f / width;
                a[q * width + f % width] = sign;
            }
            double[] c =
                    concretizer
                            .bounds(
                                    LinearBounds.exactly(a, rows, width, false, rowQuery),
                                    index,
                                    out)[0];
            System.arraycopy(c, 0, result, from, rows);
        }
        return result;
    }

    /**
     * Turns linear bounds over a layer's output into numbers: back-substitutes them to the input
     * boxes and concretises. When the first layer is dense, the last step (to the widest matrices,
     * rows x inputs) runs in blocks of {@link #BLOCK} rows that are concretised while they are in
     * cache, so the input-wide coefficients are never all in memory at once.
     */
    private final class Concretizer {
        private static final int BLOCK = 1024;
        private final Interval inputs;
        private final double[] centre;
        private final double[] radius;

        Concretizer(Interval inputs) {
            this.inputs = inputs;
            double[] lower = inputs.lower();
            double[] upper = inputs.upper();
            this.centre = new double[lower.length];
            this.radius = new double[lower.length];
            for (int k = 0; k < lower.length; k++) {
                centre[k] = (lower[k] + upper[k]) * 0.5;
                radius[k] = (upper[k] - lower[k]) * 0.5;
            }
        }

        /** {lower, upper (if wanted)} of the rows of {@code over}, over layer {@code from}. */
        double[][] bounds(LinearBounds over, int from, Interval[] out) {
            boolean firstDense = layers.get(0) instanceof DenseLayer;
            LinearBounds lb = over;
            for (int index = from; index >= (firstDense ? 1 : 0); index--) {
                lb = bounds.get(index).backSubstitute(lb, index == 0 ? inputs : out[index - 1]);
            }
            if (!firstDense) {
                return lb.concretize(centre, radius);
            }
            double[][] result = {new double[lb.rows], lb.hasUpper() ? new double[lb.rows] : null};
            LayerBounds first = bounds.get(0);
            for (int start = 0; start < lb.rows; start += BLOCK) {
                int count = Math.min(BLOCK, lb.rows - start);
                double[][] c =
                        first.backSubstitute(lb.slice(start, count), inputs)
                                .concretize(centre, radius);
                System.arraycopy(c[0], 0, result[0], start, count);
                if (c[1] != null) {
                    System.arraycopy(c[1], 0, result[1], start, count);
                }
            }
            return result;
        }
    }

    /** G_k per layer output and query, [queries * width] (see the class comment). */
    private double[][] magnitudes(Interval inputs) {
        double[][] g = new double[layers.size()][];
        double[] lo = inputs.lower();
        double[] hi = inputs.upper();
        double[] previous = new double[lo.length];
        for (int k = 0; k < lo.length; k++) {
            previous[k] = Math.max(Math.abs(lo[k]), Math.abs(hi[k]));
        }
        int queries = inputs.rows();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            double[] next;
            if (layer instanceof DenseLayer dense) {
                next = ((DenseBounds) bounds.get(i)).absProduct(previous, queries);
                int width = dense.outputSize();
                for (int k = 0; k < next.length; k++) {
                    next[k] += Math.abs(dense.bias(k % width));
                }
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                int width = affine.outputSize();
                next = new double[previous.length];
                for (int k = 0; k < next.length; k++) {
                    next[k] =
                            Math.abs(affine.scale(k % width)) * previous[k]
                                    + Math.abs(affine.shift(k % width));
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
