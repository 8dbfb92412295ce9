package org.robustflow.bounds;

import org.robustflow.model.Network;

/**
 * Decides (image, eps) pairs with sound bounds, a batch at a time.
 *
 * <p>A pair is CERTIFIED when the clean image is classified correctly and the lower bound of every
 * margin logit_y - logit_j is positive on the whole eps-box; MISCLASSIFIED when the clean image is
 * already wrong; UNKNOWN otherwise. Implementations: {@link BoxCertifier}, {@link CrownCertifier}.
 */
public interface Certifier {
    /** Verdict of one row with what the bounds showed. */
    record Result(Verdict verdict, int predicted, double marginLowerBound, int unstableRelus) {}

    /** The bound methods by name, as the CLI and the job take them. */
    static Certifier of(String method, Network mlp) {
        return switch (method) {
            case "box" -> new BoxCertifier(mlp);
            case "crown" -> new CrownCertifier(mlp);
            default ->
                    throw new IllegalArgumentException(
                            "unknown bound method '" + method + "': box or crown");
        };
    }

    Network model();

    /** The method's name in verdicts: box or crown. */
    String method();

    /**
     * Certifies rows (image {@code rowImage[r]}, eps {@code rowEps[r]}).
     *
     * @param images {@code labels.length} images of {@code model().inputSize()} pixels in [0,1],
     *     row-major
     */
    default Result[] certify(double[] images, int[] labels, int[] rowImage, double[] rowEps) {
        if (images.length != labels.length * model().inputSize()) {
            throw new IllegalArgumentException(
                    images.length + " pixel values do not make " + labels.length + " images");
        }
        return certify(images, labels, predict(model(), images, labels.length), rowImage, rowEps);
    }

    /**
     * As {@link #certify(double[], int[], int[], double[])} with the images' clean predictions
     * already computed ({@link #predict}).
     */
    Result[] certify(
            double[] images, int[] labels, int[] predicted, int[] rowImage, double[] rowEps);

    /** Every image at every eps as rows, image-major: row i * eps.length + e. */
    record Grid(int[] rowImage, double[] rowEps) {
        public static Grid of(int images, double[] eps) {
            int[] rowImage = new int[images * eps.length];
            double[] rowEps = new double[images * eps.length];
            for (int i = 0; i < images; i++) {
                for (int e = 0; e < eps.length; e++) {
                    rowImage[i * eps.length + e] = i;
                    rowEps[i * eps.length + e] = eps[e];
                }
            }
            return new Grid(rowImage, rowEps);
        }
    }

    /** Certifies every image at every eps; results indexed [image][eps]. */
    default Result[][] certifyGrid(double[] images, int[] labels, double[] eps) {
        int n = labels.length;
        Grid rows = Grid.of(n, eps);
        Result[] flat = certify(images, labels, rows.rowImage(), rows.rowEps());
        Result[][] grid = new Result[n][eps.length];
        for (int i = 0; i < n; i++) {
            System.arraycopy(flat, i * eps.length, grid[i], 0, eps.length);
        }
        return grid;
    }

    /** The verdict for a clean prediction and the smallest margin lower bound (exact sign test). */
    static Verdict verdict(int label, int predicted, double marginLowerBound) {
        if (predicted != label) {
            return Verdict.MISCLASSIFIED;
        }
        // fl(a - b) > 0 exactly when a > b (gradual underflow), so the sign of a computed margin is
        // exact.
        return marginLowerBound > 0 ? Verdict.CERTIFIED : Verdict.UNKNOWN;
    }

    /** Clean predictions of {@code count} images, in double with the reference forward pass. */
    static int[] predict(Network mlp, double[] images, int count) {
        int pixels = mlp.inputSize();
        int[] predicted = new int[count];
        double[] x = new double[pixels];
        for (int i = 0; i < count; i++) {
            System.arraycopy(images, i * pixels, x, 0, pixels);
            predicted[i] = mlp.predict(x);
        }
        return predicted;
    }
}
