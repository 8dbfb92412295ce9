package org.robustflow.bounds;

import org.robustflow.model.Network;

/** Certifies pairs with {@link CrownPropagator}: one back-substitution per row. Thread-safe. */
public final class CrownCertifier implements Certifier {
    private final Network mlp;
    private final CrownPropagator propagator;

    public CrownCertifier(Network mlp) {
        this.mlp = mlp;
        this.propagator = new CrownPropagator(mlp);
    }

    @Override
    public Network model() {
        return mlp;
    }

    @Override
    public String method() {
        return "crown";
    }

    @Override
    public Result[] certify(double[] images, int[] labels, int[] rowImage, double[] rowEps) {
        int pixels = mlp.inputSize();
        if (images.length != labels.length * pixels) {
            throw new IllegalArgumentException(
                    images.length + " pixel values do not make " + labels.length + " images");
        }
        int[] predicted = Certifier.predict(mlp, images, labels.length);
        Result[] results = new Result[rowImage.length];
        double[] x = new double[pixels];
        for (int r = 0; r < rowImage.length; r++) {
            int image = rowImage[r];
            System.arraycopy(images, image * pixels, x, 0, pixels);
            double[][] box = InputBox.of(x, rowEps[r]);
            CrownPropagator.RowBounds b = propagator.bound(box[0], box[1], labels[image]);
            double margin = Double.POSITIVE_INFINITY;
            for (double m : b.marginLower()) {
                margin = Math.min(margin, m);
            }
            results[r] =
                    new Result(
                            Certifier.verdict(labels[image], predicted[image], margin),
                            predicted[image],
                            margin,
                            b.unstableRelus());
        }
        return results;
    }
}
