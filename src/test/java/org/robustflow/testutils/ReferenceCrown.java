package org.robustflow.testutils;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;

import java.util.ArrayList;
import java.util.List;

/**
 * An independent CROWN implementation to check the production one against: plain Java with
 * two-dimensional arrays, one bound at a time, lower bounds of A z + c by back-substitution (upper
 * bounds as -lower(-A, -c)), ReLU relaxations as in CROWN (upper: the triangle's chord; lower:
 * slope 1 when u &gt; -l, else 0), and no rounding guard.
 *
 * <p>Hidden bounds are intersected with the interval bounds of {@link ReferenceIntervalPropagation}
 * before the next layer relaxes them, as the production code does; the margins are returned
 * <b>before</b> any intersection with the box, so a comparison sees CROWN's own bound.
 */
public final class ReferenceCrown {
    /** Hidden pre-activation bounds {lower, upper} per hidden layer, and raw CROWN margins. */
    public record Bounds(List<double[][]> hidden, double[] marginLower) {}

    private ReferenceCrown() {}

    public static Bounds bound(Network mlp, double[] lower, double[] upper, int label) {
        List<DenseLayer> layers = mlp.denseLayers();
        List<double[][]> ibp = ReferenceIntervalPropagation.preActivations(mlp, lower, upper);
        List<double[][]> pre = new ArrayList<>();
        pre.add(ibp.get(0));
        for (int i = 1; i < layers.size() - 1; i++) {
            int width = layers.get(i).outputSize();
            double[] lo = new double[width];
            double[] hi = new double[width];
            for (int k = 0; k < width; k++) {
                double[] unit = new double[width];
                unit[k] = 1;
                double crownLower = lowerBound(mlp, unit, 0, i, pre, lower, upper);
                unit[k] = -1;
                double crownUpper = -lowerBound(mlp, unit, 0, i, pre, lower, upper);
                lo[k] = Math.max(crownLower, ibp.get(i)[0][k]);
                hi[k] = Math.min(crownUpper, ibp.get(i)[1][k]);
            }
            pre.add(new double[][] {lo, hi});
        }
        int classes = mlp.numClasses();
        double[] margins = new double[classes];
        for (int j = 0; j < classes; j++) {
            if (j == label) {
                margins[j] = Double.POSITIVE_INFINITY;
                continue;
            }
            double[] a = new double[classes];
            a[label] = 1;
            a[j] = -1;
            margins[j] = lowerBound(mlp, a, 0, layers.size() - 1, pre, lower, upper);
        }
        return new Bounds(pre, margins);
    }

    /**
     * A lower bound of a . z_layer + c over the input box, where z_layer is dense layer {@code
     * layer}'s output.
     */
    private static double lowerBound(
            Network mlp,
            double[] coefficients,
            double constant,
            int layer,
            List<double[][]> pre,
            double[] lower,
            double[] upper) {
        List<DenseLayer> layers = mlp.denseLayers();
        double[] a = coefficients.clone();
        double c = constant;
        for (int m = layer; m >= 0; m--) {
            DenseLayer dense = layers.get(m);
            double[] next = new double[dense.inputSize()];
            for (int o = 0; o < dense.outputSize(); o++) {
                if (a[o] == 0) {
                    continue;
                }
                c += a[o] * dense.bias(o);
                for (int i = 0; i < next.length; i++) {
                    next[i] += a[o] * dense.weight(o, i);
                }
            }
            a = next;
            if (m > 0) {
                // a is over h_{m-1} = relu(z_{m-1}): replace each h by a line in z.
                double[][] b = pre.get(m - 1);
                for (int k = 0; k < a.length; k++) {
                    double l = b[0][k];
                    double u = b[1][k];
                    if (l >= 0) {
                        continue; // identity
                    }
                    if (u <= 0) {
                        a[k] = 0;
                        continue;
                    }
                    if (a[k] >= 0) {
                        a[k] *= u > -l ? 1 : 0;
                    } else {
                        double s = u / (u - l);
                        c += a[k] * (-s * l);
                        a[k] *= s;
                    }
                }
            }
        }
        for (int k = 0; k < a.length; k++) {
            c += a[k] >= 0 ? a[k] * lower[k] : a[k] * upper[k];
        }
        return c;
    }
}
