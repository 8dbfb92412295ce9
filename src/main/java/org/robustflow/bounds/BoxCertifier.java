package org.robustflow.bounds;

import org.robustflow.model.Mlp;

import java.util.List;

/**
 * Certifies (image, eps) pairs with box bounds, a batch at a time.
 *
 * <p>A pair is CERTIFIED when the clean image is classified correctly and the lower bound of the true
 * logit exceeds the upper bound of every other logit on the whole eps-box; MISCLASSIFIED when the clean
 * image is already wrong; UNKNOWN otherwise. The comparison of two doubles is exact, and the bounds
 * themselves are sound under rounding (see {@link DenseBounds}), so a certificate is never an artefact
 * of floating point.
 *
 * <p>Batches of several hundred rows amortise ND4J's per-op overhead; see the bench command.
 */
public final class BoxCertifier {
    private final Mlp mlp;
    private final BoundPropagator propagator;

    /** Verdict of one row with what the bounds showed. */
    public record Result(Verdict verdict, int predicted, double marginLowerBound, int unstableRelus) {}

    public BoxCertifier(Mlp mlp) {
        this.mlp = mlp;
        this.propagator = new BoundPropagator(mlp);
    }

    public Mlp model() {
        return mlp;
    }

    /**
     * Certifies every image at every eps.
     *
     * @param images {@code labels.length} images of {@code mlp.inputSize()} pixels in [0,1], row-major
     * @return results indexed [image][eps]
     */
    public Result[][] certifyGrid(double[] images, int[] labels, double[] eps) {
        int n = labels.length;
        int[] rowImage = new int[n * eps.length];
        double[] rowEps = new double[n * eps.length];
        for (int i = 0; i < n; i++) {
            for (int e = 0; e < eps.length; e++) {
                rowImage[i * eps.length + e] = i;
                rowEps[i * eps.length + e] = eps[e];
            }
        }
        Result[] flat = certify(images, labels, rowImage, rowEps);
        Result[][] grid = new Result[n][eps.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * eps.length, grid[i], 0, eps.length);
        }
        return grid;
    }

    /**
     * Certifies rows (image {@code rowImage[r]}, eps {@code rowEps[r]}); the clean prediction of each
     * image is computed once however many rows share it.
     */
    public Result[] certify(double[] images, int[] labels, int[] rowImage, double[] rowEps) {
        int pixels = mlp.inputSize();
        int numImages = labels.length;
        if (images.length != numImages * pixels) {
            throw new IllegalArgumentException(images.length + " pixel values do not make " + numImages + " images");
        }
        int rows = rowImage.length;
        int[] predicted = predict(images, numImages);

        double[] lower = new double[rows * pixels];
        double[] upper = new double[rows * pixels];
        double[] x = new double[pixels];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(images, rowImage[r] * pixels, x, 0, pixels);
            InputBox.write(x, rowEps[r], lower, upper, r * pixels);
        }
        List<Interval> pre = propagator.preActivations(new Interval(lower, upper, rows, pixels));
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
                    // fl(a - b) > 0 exactly when a > b (gradual underflow), so the sign is the verdict.
                    margin = Math.min(margin, lo[r * classes + label] - hi[r * classes + j]);
                }
            }
            Verdict verdict = predicted[image] != label
                    ? Verdict.MISCLASSIFIED
                    : margin > 0 ? Verdict.CERTIFIED : Verdict.UNKNOWN;
            results[r] = new Result(verdict, predicted[image], margin, unstable[r]);
        }
        return results;
    }

    private int[] predict(double[] images, int numImages) {
        int pixels = mlp.inputSize();
        int[] predicted = new int[numImages];
        double[] x = new double[pixels];
        for (int i = 0; i < numImages; i++) {
            System.arraycopy(images, i * pixels, x, 0, pixels);
            predicted[i] = mlp.predict(x);
        }
        return predicted;
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
