package org.robustflow.bounds;

import org.robustflow.model.Network;

import java.util.List;

/**
 * Certifies (image, eps) pairs with box bounds, a batch at a time: CERTIFIED when the lower bound
 * of the true logit exceeds the upper bound of every other logit on the whole eps-box. The bounds
 * are sound under rounding (see {@link DenseBounds}), so a certificate is never an artefact of
 * floating point.
 *
 * <p>Batches of several hundred rows amortise ND4J's per-op overhead; see the bench command.
 */
public final class BoxCertifier implements Certifier {
    private final Network mlp;
    private final BoundPropagator propagator;

    public BoxCertifier(Network mlp) {
        this.mlp = mlp;
        this.propagator = new BoundPropagator(mlp);
    }

    @Override
    public Network model() {
        return mlp;
    }

    @Override
    public String method() {
        return "box";
    }

    /**
     * Certifies rows (image {@code rowImage[r]}, eps {@code rowEps[r]}); the clean prediction of
     * each image is computed once however many rows share it.
     */
    @Override
    public Result[] certify(
            double[] images, int[] labels, int[] predicted, int[] rowImage, double[] rowEps) {
        int pixels = mlp.inputSize();
        int numImages = labels.length;
        if (images.length != numImages * pixels) {
            throw new IllegalArgumentException(
                    images.length + " pixel values do not make " + numImages + " images");
        }
        int rows = rowImage.length;

        List<Interval> pre =
                propagator.preActivationsAroundImages(images, numImages, rowImage, rowEps);
        int[] unstable = countUnstable(pre.subList(0, pre.size() - 1), rows);
        Interval logits = pre.get(pre.size() - 1);
        double[] lo = logits.lower();
        double[] hi = logits.upper();
        int classes = mlp.numClasses();

        Result[] results = new Result[rows];
        for (int r = 0; r < rows; r++) {
            int image = rowImage[r];
            int label = labels[image];
            double margin = Double.POSITIVE_INFINITY;
            for (int j = 0; j < classes; j++) {
                if (j != label) {
                    margin = Math.min(margin, lo[r * classes + label] - hi[r * classes + j]);
                }
            }
            results[r] =
                    new Result(
                            Certifier.verdict(label, predicted[image], margin),
                            predicted[image],
                            margin,
                            unstable[r]);
        }
        return results;
    }

    /** Hidden neurons whose pre-activation bounds straddle zero, per row. */
    private static int[] countUnstable(List<Interval> hidden, int rows) {
        int[] counts = new int[rows];
        for (Interval layer : hidden) {
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < layer.width(); k++) {
                    if (layer.lower(r, k) < 0 && layer.upper(r, k) > 0) {
                        counts[r]++;
                    }
                }
            }
        }
        return counts;
    }
}
