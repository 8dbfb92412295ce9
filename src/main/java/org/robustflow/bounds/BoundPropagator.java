package org.robustflow.bounds;

import org.robustflow.model.Layer;
import org.robustflow.model.Network;

import java.util.ArrayList;
import java.util.List;

/**
 * Pushes input boxes through a network layer by layer with each layer type's {@link LayerBounds}.
 *
 * <p>Immutable and safe to share between threads; every call allocates its own arrays.
 */
public final class BoundPropagator {
    private final Network mlp;
    private final List<LayerBounds> layers;

    public BoundPropagator(Network mlp) {
        this.mlp = mlp;
        List<LayerBounds> bounds = new ArrayList<>();
        for (Layer layer : mlp.layers()) {
            bounds.add(LayerBounds.of(layer));
        }
        this.layers = List.copyOf(bounds);
    }

    public Network model() {
        return mlp;
    }

    /**
     * Box bounds on the pre-activation of every dense layer, in order; the last entry bounds the
     * logits. These are the per-neuron bounds an exact encoding takes its big-M constants from.
     */
    public List<Interval> preActivations(Interval input) {
        return preActivations(input, null);
    }

    /**
     * As {@link #preActivations(Interval)}, with an upper bound of |W| |c| for the first (dense)
     * layer's input-box centres c, [rows, out], which spares the rounding guard a matrix product
     * there.
     */
    List<Interval> preActivations(Interval input, double[] firstLayerAbsCentreBound) {
        List<Interval> out = new ArrayList<>();
        Interval h = input;
        for (int i = 0; i < layers.size(); i++) {
            h =
                    i == 0
                                    && firstLayerAbsCentreBound != null
                                    && layers.get(0) instanceof DenseBounds first
                            ? first.box(h, firstLayerAbsCentreBound)
                            : layers.get(i).box(h);
            if (!(mlp.layers().get(i) instanceof org.robustflow.model.ReluLayer)) {
                out.add(h);
            }
        }
        return out;
    }

    private DenseBounds firstDense() {
        return layers.get(0) instanceof DenseBounds d ? d : null;
    }

    /**
     * An upper bound of |W1| c for every row's {@link InputBox} centre c, from one product per
     * image instead of one per row: pixels are >= 0 and the box centre never exceeds x + eps (+ the
     * outward widening), so |W1| c <= |W1| x + (eps + 2 WIDEN) rowsum|W1|.
     */
    double[] firstLayerAbsCentreBound(
            double[] images, int numImages, int[] rowImage, double[] rowEps) {
        DenseBounds first = firstDense();
        if (first == null) {
            return null;
        }
        for (double v : images) {
            if (v < 0) {
                return null; // the bound needs non-negative inputs; fall back to the exact product
            }
        }
        double[] absWx = first.absProduct(images, numImages);
        double[] rowSums = first.absRowSums();
        int out = rowSums.length;
        double[] bound = new double[rowImage.length * out];
        for (int r = 0; r < rowImage.length; r++) {
            double slack = rowEps[r] + 2 * InputBox.WIDEN;
            for (int o = 0; o < out; o++) {
                bound[r * out + o] = absWx[rowImage[r] * out + o] + slack * rowSums[o];
            }
        }
        return bound;
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
