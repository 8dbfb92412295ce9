package org.robustflow.bounds;

import org.robustflow.model.Network;
import org.robustflow.spec.OutputSpec;

/** Certifies pairs with {@link CrownPropagator}, all rows of a call in one batch. Thread-safe. */
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
    public Result[] certify(
            double[] images, int[] labels, int[] predicted, int[] rowImage, double[] rowEps) {
        int pixels = mlp.inputSize();
        if (images.length != labels.length * pixels) {
            throw new IllegalArgumentException(
                    images.length + " pixel values do not make " + labels.length + " images");
        }
        int rows = rowImage.length;
        double[] lower = new double[rows * pixels];
        double[] upper = new double[rows * pixels];
        double[] x = new double[pixels];
        OutputSpec[] specs = new OutputSpec[rows];
        int classes = mlp.numClasses();
        for (int r = 0; r < rows; r++) {
            System.arraycopy(images, rowImage[r] * pixels, x, 0, pixels);
            InputBox.write(x, rowEps[r], lower, upper, r * pixels);
            specs[r] = OutputSpec.robustness(classes, labels[rowImage[r]]);
        }
        CrownPropagator.SpecBounds[] bounds =
                propagator.bound(new Interval(lower, upper, rows, pixels), specs);
        Result[] results = new Result[rows];
        for (int r = 0; r < rows; r++) {
            int image = rowImage[r];
            double margin = Double.POSITIVE_INFINITY;
            for (double m : bounds[r].rowLower()) {
                margin = Math.min(margin, m);
            }
            results[r] =
                    new Result(
                            Certifier.verdict(labels[image], predicted[image], margin),
                            predicted[image],
                            margin,
                            bounds[r].unstableRelus());
        }
        return results;
    }
}
