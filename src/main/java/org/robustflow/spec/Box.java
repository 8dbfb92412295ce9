package org.robustflow.spec;

/**
 * An axis-aligned input region lower <= x <= upper, element-wise, exactly as given (no widening):
 * the region a property quantifies over.
 */
public record Box(double[] lower, double[] upper) {
    public Box {
        if (lower.length != upper.length || lower.length == 0) {
            throw new IllegalArgumentException(
                    "box bounds have " + lower.length + " and " + upper.length + " entries");
        }
        for (int i = 0; i < lower.length; i++) {
            if (!(lower[i] <= upper[i])
                    || !Double.isFinite(lower[i])
                    || !Double.isFinite(upper[i])) {
                throw new IllegalArgumentException(
                        "input " + i + " has bounds [" + lower[i] + ", " + upper[i] + "]");
            }
        }
        lower = lower.clone();
        upper = upper.clone();
    }

    /** The L-infinity ball of radius eps around x, clipped to [0,1] (MNIST pixels). */
    public static Box around(double[] x, double eps) {
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("eps must be >= 0, got " + eps);
        }
        double[] lo = new double[x.length];
        double[] hi = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            lo[k] = Math.max(0.0, x[k] - eps);
            hi[k] = Math.min(1.0, x[k] + eps);
        }
        return new Box(lo, hi);
    }

    @Override
    public double[] lower() {
        return lower.clone();
    }

    @Override
    public double[] upper() {
        return upper.clone();
    }

    public int size() {
        return lower.length;
    }

    public double lower(int i) {
        return lower[i];
    }

    public double upper(int i) {
        return upper[i];
    }

    /** Whether every coordinate of {@code point} lies in the box (no tolerance). */
    public boolean contains(double[] point) {
        if (point.length != lower.length) {
            return false;
        }
        for (int k = 0; k < point.length; k++) {
            if (!(point[k] >= lower[k] && point[k] <= upper[k])) {
                return false;
            }
        }
        return true;
    }
}
