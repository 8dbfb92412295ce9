package org.robustflow.milp;

import com.google.ortools.linearsolver.MPSolver;
import org.robustflow.bounds.Interval;
import org.robustflow.bounds.LayerBounds;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link Network} on one solver, layer by layer with each layer type's {@link LayerEncoder}, over
 * an input box.
 *
 * <p>Every variable's bounds are sound bounds for the box: box propagation ({@link
 * LayerBounds#box}, outward-rounded) from the box, with the input of every ReLU layer tightened to
 * the intersection with the caller's bounds (CROWN's, which are tighter on deep layers), so the
 * big-M constants of unstable ReLUs are as small as the bounds allow and never too small.
 */
public final class NetworkEncoding {
    private final List<Encoders.Bounded> inputs;
    private final List<Encoders.Bounded> outputs;

    private NetworkEncoding(List<Encoders.Bounded> inputs, List<Encoders.Bounded> outputs) {
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /**
     * Encodes {@code network} for inputs in {@code box} ({lower, upper}).
     *
     * @param reluInputs sound {lower, upper} bounds of the input of every ReLU layer for this box,
     *     in order (CROWN's {@code hiddenPreActivations})
     * @throws IllegalArgumentException if {@code reluInputs} do not fit the network, or contradict
     *     the box's own bounds (they belong to another box: encoding them would make the MILP
     *     infeasible and so "prove" anything)
     */
    public static NetworkEncoding encode(
            MPSolver solver,
            Encoders encoders,
            Network network,
            double[][] box,
            List<double[][]> reluInputs) {
        List<double[][]> bounds = bounds(network, box, reluInputs);
        List<Encoders.Bounded> h = new ArrayList<>(network.inputSize());
        double[][] in = bounds.get(0);
        for (int k = 0; k < network.inputSize(); k++) {
            h.add(
                    new Encoders.Bounded(
                            solver.makeNumVar(in[0][k], in[1][k], "x" + k), in[0][k], in[1][k]));
        }
        List<Encoders.Bounded> inputs = List.copyOf(h);
        List<Layer> layers = network.layers();
        for (int i = 0; i < layers.size(); i++) {
            h = LayerEncoder.of(layers.get(i)).encode(encoders, h, bounds.get(i + 1), "l" + i);
        }
        return new NetworkEncoding(inputs, List.copyOf(h));
    }

    /** The input variables, one per input coordinate. */
    public List<Encoders.Bounded> inputs() {
        return inputs;
    }

    /** The output variables (logits). */
    public List<Encoders.Bounded> outputs() {
        return outputs;
    }

    /** Sound bounds of the network's input (entry 0) and of every layer's output (entry i + 1). */
    static List<double[][]> bounds(Network network, double[][] box, List<double[][]> reluInputs) {
        List<Layer> layers = network.layers();
        int relus = 0;
        for (Layer layer : layers) {
            relus += layer instanceof ReluLayer ? 1 : 0;
        }
        if (reluInputs.size() != relus) {
            throw new IllegalArgumentException(
                    "bounds for " + reluInputs.size() + " ReLU layers, network has " + relus);
        }
        List<double[][]> out = new ArrayList<>(layers.size() + 1);
        double[][] h = {box[0].clone(), box[1].clone()};
        out.add(h);
        int k = 0;
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (layer instanceof ReluLayer) {
                intersect(h, reluInputs.get(k++), i);
            }
            Interval next =
                    LayerBounds.of(layer).box(new Interval(h[0], h[1], 1, layer.inputSize()));
            h = next.row(0);
            out.add(h);
        }
        return out;
    }

    /** Narrows {@code h} (in place) to its intersection with {@code other}. */
    private static void intersect(double[][] h, double[][] other, int layer) {
        if (other[0].length != h[0].length || other[1].length != h[0].length) {
            throw new IllegalArgumentException(
                    "ReLU layer "
                            + layer
                            + " has "
                            + h[0].length
                            + " inputs, bounds hold "
                            + other[0].length);
        }
        for (int j = 0; j < h[0].length; j++) {
            double lo = Math.max(h[0][j], other[0][j]);
            double hi = Math.min(h[1][j], other[1][j]);
            if (!(lo <= hi)) {
                throw new IllegalArgumentException(
                        "bounds of ReLU layer "
                                + layer
                                + " input "
                                + j
                                + " ["
                                + other[0][j]
                                + ", "
                                + other[1][j]
                                + "] miss the box's own ["
                                + h[0][j]
                                + ", "
                                + h[1][j]
                                + "]: they belong to another box");
            }
            h[0][j] = lo;
            h[1][j] = hi;
        }
    }
}
