package org.robustflow.bounds;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.ReluLayer;

/**
 * Bound propagation for one layer type: one method per bound method.
 *
 * <p>Box (interval bound propagation, Gowal et al. 2018, "On the Effectiveness of Interval Bound
 * Propagation for Training Verifiably Robust Models", eq. 6) is the first; a tighter method is added
 * as another method here, implemented by each layer type, not as a new hierarchy.
 */
public interface LayerBounds {
    /** Sound element-wise output bounds for inputs anywhere in {@code in}. */
    Interval box(Interval in);

    static LayerBounds of(Layer layer) {
        if (layer instanceof DenseLayer dense) {
            return new DenseBounds(dense);
        }
        if (layer instanceof ReluLayer) {
            return ReluBounds.INSTANCE;
        }
        throw new IllegalArgumentException("no bounds for layer type " + layer.getClass().getSimpleName());
    }
}
