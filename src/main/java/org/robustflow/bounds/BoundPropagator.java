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
        return from(0, input);
    }

    /**
     * As {@link #preActivations(Interval)} for the {@link InputBox} of image {@code rowImage[r]} at
     * {@code rowEps[r]} in row r. A dense first layer over pixels in [0,1] bounds these boxes from
     * products per image ({@link DenseBounds#boxAroundImages}) instead of per row.
     *
     * @param images {@code numImages} row-major images
     */
    public List<Interval> preActivationsAroundImages(
            double[] images, int numImages, int[] rowImage, double[] rowEps) {
        int pixels = mlp.inputSize();
        int rows = rowImage.length;
        double[] halfWidth = new double[rows];
        boolean factored = layers.get(0) instanceof DenseBounds;
        for (int r = 0; r < rows; r++) {
            if (!(rowEps[r] >= 0)) {
                throw new IllegalArgumentException("eps must be >= 0, got " + rowEps[r]);
            }
            halfWidth[r] = rowEps[r] + InputBox.WIDEN;
            factored &= halfWidth[r] <= 0.5;
        }
        for (double v : images) {
            factored &= v >= 0 && v <= 1;
        }
        if (factored) {
            Interval first =
                    ((DenseBounds) layers.get(0))
                            .boxAroundImages(images, numImages, rowImage, halfWidth);
            List<Interval> rest = from(1, first);
            List<Interval> all = new ArrayList<>(rest.size() + 1);
            all.add(first);
            all.addAll(rest);
            return all;
        }
        double[] lower = new double[rows * pixels];
        double[] upper = new double[rows * pixels];
        double[] x = new double[pixels];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(images, rowImage[r] * pixels, x, 0, pixels);
            InputBox.write(x, rowEps[r], lower, upper, r * pixels);
        }
        return from(0, new Interval(lower, upper, rows, pixels));
    }

    /** Pre-activation bounds of layers {@code first}.. given the bounds of their input. */
    private List<Interval> from(int first, Interval input) {
        List<Interval> out = new ArrayList<>();
        Interval h = input;
        for (int i = first; i < layers.size(); i++) {
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
