package org.robustflow.bounds;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.ReluLayer;

/**
 * Bound propagation for one layer type: one method per bound method.
 *
 * <p>{@link #box} is interval bound propagation (Gowal et al. 2018, "On the Effectiveness of
 * Interval Bound Propagation for Training Verifiably Robust Models", eq. 6). {@link
 * #backSubstitute} is the step of linear-relaxation back-substitution (CROWN, Zhang et al. 2018,
 * "Efficient Neural Network Robustness Certification with General Activation Functions"; DeepPoly,
 * Singh et al. 2019), which {@link CrownPropagator} drives through the network.
 */
public interface LayerBounds {
    /** Sound element-wise output bounds for inputs anywhere in {@code in}. */
    Interval box(Interval in);

    /**
     * Rewrites linear bounds over this layer's output into linear bounds over its input, for a
     * batch of rows (see {@link LinearBounds#rowQuery}).
     *
     * @param input sound bounds of this layer's input per query, [queries, inputSize] (needed by
     *     ReLU; affine layers ignore them)
     */
    LinearBounds backSubstitute(LinearBounds over, Interval input);

    static LayerBounds of(Layer layer) {
        if (layer instanceof DenseLayer dense) {
            return new DenseBounds(dense);
        }
        if (layer instanceof ReluLayer) {
            return ReluBounds.INSTANCE;
        }
        if (layer instanceof ElementwiseAffineLayer affine) {
            return new ElementwiseAffineBounds(affine);
        }
        throw new IllegalArgumentException(
                "no bounds for layer type " + layer.getClass().getSimpleName());
    }
}
