package org.robustflow.bounds;

import org.robustflow.model.ElementwiseAffineLayer;

/**
 * Bounds of y = a x + s element-wise. Box: the image of [l, u] is [a l, a u] (swapped for a &lt; 0)
 * plus s, exact up to the rounding of one product and one sum per value: at most 2u (|a| m + |s|),
 * m = max(|l|, |u|); widened by twice that plus an underflow guard. Back-substitution: A' = A
 * diag(a), C' = C + A s.
 */
final class ElementwiseAffineBounds implements LayerBounds {
    private static final double UNIT_ROUNDOFF = 0x1p-53;
    private static final double UNDERFLOW_GUARD = 1e-290;

    private final double[] scale;
    private final double[] shift;

    ElementwiseAffineBounds(ElementwiseAffineLayer layer) {
        int n = layer.inputSize();
        this.scale = new double[n];
        this.shift = new double[n];
        for (int i = 0; i < n; i++) {
            scale[i] = layer.scale(i);
            shift[i] = layer.shift(i);
        }
    }

    @Override
    public Interval box(Interval in) {
        int n = scale.length;
        if (in.width() != n) {
            throw new IllegalArgumentException(
                    "layer takes " + n + " inputs, bounds have " + in.width());
        }
        double[] lower = new double[in.lower().length];
        double[] upper = new double[lower.length];
        double[] lo = in.lower();
        double[] hi = in.upper();
        for (int q = 0; q < lower.length; q++) {
            int k = q % n;
            double a = scale[k];
            double v1 = a * lo[q] + shift[k];
            double v2 = a * hi[q] + shift[k];
            double m = Math.max(Math.abs(lo[q]), Math.abs(hi[q]));
            double guard =
                    4 * UNIT_ROUNDOFF * (Math.abs(a) * m + Math.abs(shift[k])) + UNDERFLOW_GUARD;
            lower[q] = Math.min(v1, v2) - guard;
            upper[q] = Math.max(v1, v2) + guard;
        }
        return new Interval(lower, upper, in.rows(), n);
    }

    @Override
    public LinearBounds backSubstitute(LinearBounds over, Interval input) {
        double[] lowerA = new double[over.lowerA.length];
        double[] lowerC = over.lowerC.clone();
        apply(over.lowerA, lowerA, lowerC, over.rows);
        double[] upperA = null;
        double[] upperC = null;
        if (over.hasUpper()) {
            upperA = new double[over.upperA.length];
            upperC = over.upperC.clone();
            apply(over.upperA, upperA, upperC, over.rows);
        }
        return new LinearBounds(
                over.rows, over.width, lowerA, lowerC, upperA, upperC, over.rowQuery);
    }

    private void apply(double[] a, double[] out, double[] c, int rows) {
        int n = scale.length;
        for (int q = 0; q < rows; q++) {
            double constant = c[q];
            for (int k = 0; k < n; k++) {
                double coefficient = a[q * n + k];
                out[q * n + k] = coefficient * scale[k];
                constant += coefficient * shift[k];
            }
            c[q] = constant;
        }
    }
}
