package org.robustflow.milp;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.ReluLayer;

import java.util.List;

/**
 * The exact mixed-integer encoding of one layer type: the MILP counterpart of {@code
 * bounds.LayerBounds}, one implementation per layer type (auto_LiRPA's {@code build_solver},
 * MIPVerify's per-layer methods).
 *
 * <p>Each encoder receives its inputs as solver variables with sound bounds, and sound bounds of
 * its outputs for the same input box; any big-M constant comes from those bounds only.
 */
public interface LayerEncoder {
    /**
     * Adds the layer's variables and constraints.
     *
     * @param in the layer's inputs, with sound bounds
     * @param out sound bounds of the layer's outputs, {lower, upper}
     * @param name prefix for the new variables' names
     * @return the layer's outputs, with their bounds
     */
    List<Encoders.Bounded> encode(
            Encoders encoders, List<Encoders.Bounded> in, double[][] out, String name);

    static LayerEncoder of(Layer layer) {
        if (layer instanceof DenseLayer dense) {
            return new DenseEncoder(dense);
        }
        if (layer instanceof ReluLayer) {
            return ReluEncoder.INSTANCE;
        }
        if (layer instanceof ElementwiseAffineLayer affine) {
            return new ElementwiseAffineEncoder(affine);
        }
        throw new IllegalArgumentException(
                "no MILP encoding for layer type " + layer.getClass().getSimpleName());
    }
}
