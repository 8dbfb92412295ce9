package org.robustflow.bounds;

/**
 * Linear bounds on {@code rows} quantities q in terms of some layer's vector h of {@code width}
 * values, for one (image, eps) pair: {@code lowerA h + lowerC <= q <= upperA h + upperC}, with the
 * matrices row-major [rows, width]. The upper half may be absent when only lower bounds are wanted
 * (margins).
 */
final class LinearBounds {
    final int rows;
    final int width;
    final double[] lowerA;
    final double[] lowerC;
    final double[] upperA;
    final double[] upperC;

    LinearBounds(
            int rows,
            int width,
            double[] lowerA,
            double[] lowerC,
            double[] upperA,
            double[] upperC) {
        this.rows = rows;
        this.width = width;
        this.lowerA = lowerA;
        this.lowerC = lowerC;
        this.upperA = upperA;
        this.upperC = upperC;
    }

    boolean hasUpper() {
        return upperA != null;
    }

    /** q = A h exactly: both bounds equal, constants zero. */
    static LinearBounds exactly(double[] a, int rows, int width, boolean withUpper) {
        return new LinearBounds(
                rows,
                width,
                a.clone(),
                new double[rows],
                withUpper ? a.clone() : null,
                withUpper ? new double[rows] : null);
    }

    /**
     * The bounds' minimum (lower half) and maximum (upper half) over the box [lower, upper] of h,
     * in centre-radius form (A c -/+ |A| r + C): branch-free, so the JIT vectorises it.
     */
    double[][] concretize(double[] lower, double[] upper) {
        double[] centre = new double[width];
        double[] radius = new double[width];
        for (int k = 0; k < width; k++) {
            centre[k] = (lower[k] + upper[k]) * 0.5;
            radius[k] = (upper[k] - lower[k]) * 0.5;
        }
        double[] lo = new double[rows];
        double[] hi = hasUpper() ? new double[rows] : null;
        for (int q = 0; q < rows; q++) {
            lo[q] = lowerC[q] + dot(lowerA, q, centre) - absDot(lowerA, q, radius);
            if (hi != null) {
                hi[q] = upperC[q] + dot(upperA, q, centre) + absDot(upperA, q, radius);
            }
        }
        return new double[][] {lo, hi};
    }

    private double dot(double[] a, int row, double[] v) {
        double sum = 0;
        int base = row * width;
        for (int k = 0; k < width; k++) {
            sum += a[base + k] * v[k];
        }
        return sum;
    }

    private double absDot(double[] a, int row, double[] v) {
        double sum = 0;
        int base = row * width;
        for (int k = 0; k < width; k++) {
            sum += Math.abs(a[base + k]) * v[k];
        }
        return sum;
    }
}
