package org.robustflow.bounds;

import org.robustflow.model.Layer;
import org.robustflow.model.Mlp;

import java.util.ArrayList;
import java.util.List;

/**
 * Pushes input boxes through a network layer by layer with each layer type's {@link LayerBounds}.
 *
 * <p>Immutable and safe to share between threads; every call allocates its own arrays.
 */
public final class BoundPropagator {
    private final Mlp mlp;
    private final List<LayerBounds> layers;

    public BoundPropagator(Mlp mlp) {
        this.mlp = mlp;
        List<LayerBounds> bounds = new ArrayList<>();
        for (Layer layer : mlp.layers()) {
            bounds.add(LayerBounds.of(layer));
        }
        this.layers = List.copyOf(bounds);
    }

    public Mlp model() {
        return mlp;
    }

    /**
     * Box bounds on the pre-activation of every dense layer, in order; the last entry bounds the
     * logits. These are the per-neuron bounds an exact encoding takes its big-M constants from.
     */
    public List<Interval> preActivations(Interval input) {
        List<Interval> out = new ArrayList<>();
        Interval h = input;
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).box(h);
            if (!(mlp.layers().get(i) instanceof org.robustflow.model.ReluLayer)) {
                out.add(h);
            }
        }
        return out;
    }

    /** Box bounds on the logits. */
    public Interval logits(Interval input) {
        Interval h = input;
        for (LayerBounds layer : layers) {
            h = layer.box(h);
        }
        return h;
    }
}
