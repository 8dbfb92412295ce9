package org.robustflow.milp;

import java.util.ArrayList;
import java.util.List;

/**
 * y = max(0, x) per neuron: no binary for stable neurons, one binary with big-M from the input's
 * sound bounds for unstable ones ({@link Encoders#relu}).
 */
public final class ReluEncoder implements LayerEncoder {
    public static final ReluEncoder INSTANCE = new ReluEncoder();

    private ReluEncoder() {}

    @Override
    public List<Encoders.Bounded> encode(
            Encoders encoders, List<Encoders.Bounded> in, double[][] out, String name) {
        // The output bounds follow from the input's: max(0, l), max(0, u).
        List<Encoders.Bounded> y = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            y.add(encoders.relu(in.get(i), name + "_" + i));
        }
        return y;
    }
}
