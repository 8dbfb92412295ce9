package org.robustflow.bounds;

import java.util.Arrays;

/**
 * Linear bounds on {@code rows} quantities q in terms of some layer's vector h of {@code width}
 * values, for one (image, eps) pair: {@code lowerA h + lowerC <= q <= upperA h + upperC}, with the
 * matrices row-major [rows, width]. The upper half may be absent when only lower bounds are wanted
 * (margins). In a batch, rows of many queries are stacked so that each layer costs one matrix
 * product; {@code rowQuery[q]} names the query (the row of the layers' bound intervals) that row q
 * belongs to, null when every row belongs to query 0.
 */
final class LinearBounds {
    final int rows;
    final int width;
    final double[] lowerA;
    final double[] lowerC;
    final double[] upperA;
    final double[] upperC;
    final int[] rowQuery;

    LinearBounds(
            int rows,
            int width,
            double[] lowerA,
            double[] lowerC,
            double[] upperA,
            double[] upperC,
            int[] rowQuery) {
        this.rows = rows;
        this.width = width;
        this.lowerA = lowerA;
        this.lowerC = lowerC;
        this.upperA = upperA;
        this.upperC = upperC;
        this.rowQuery = rowQuery;
    }

    int query(int row) {
        return rowQuery == null ? 0 : rowQuery[row];
    }

    boolean hasUpper() {
        return upperA != null;
    }

    /** q = A h exactly: both bounds equal, constants zero. */
    static LinearBounds exactly(
            double[] a, int rows, int width, boolean withUpper, int[] rowQuery) {
        return new LinearBounds(
                rows,
                width,
                a,
                new double[rows],
                withUpper ? a.clone() : null,
                withUpper ? new double[rows] : null,
                rowQuery);
    }

    /**
     * The bounds' minimum (lower half) and maximum (upper half) over each row's query box, given as
     * centres and radii per query ([queries * width]), in centre-radius form (A c -/+ |A| r + C).
     */
    double[][] concretize(double[] centre, double[] radius) {
        double[] lo = new double[rows];
        double[] hi = hasUpper() ? new double[rows] : null;
        for (int q = 0; q < rows; q++) {
            int offset = query(q) * width;
            lo[q] = lowerC[q] + centreMinusRadius(lowerA, q * width, centre, radius, offset, -1);
            if (hi != null) {
                hi[q] = upperC[q] + centreMinusRadius(upperA, q * width, centre, radius, offset, 1);
            }
        }
        return new double[][] {lo, hi};
    }

    /** Rows [from, from + count) as bounds of their own. */
    LinearBounds slice(int from, int count) {
        return new LinearBounds(
                count,
                width,
                Arrays.copyOfRange(lowerA, from * width, (from + count) * width),
                Arrays.copyOfRange(lowerC, from, from + count),
                hasUpper()
                        ? Arrays.copyOfRange(upperA, from * width, (from + count) * width)
                        : null,
                hasUpper() ? Arrays.copyOfRange(upperC, from, from + count) : null,
                rowQuery == null ? null : Arrays.copyOfRange(rowQuery, from, from + count));
    }

    /**
     * a . centre + sign |a| . radius over one row, with four partial sums: the JIT does not reorder
     * floating-point sums, so independent accumulators are what lets the adds overlap. The rounding
     * lemma (CrownPropagator) holds for any order of summation.
     */
    private double centreMinusRadius(
            double[] a, int base, double[] centre, double[] radius, int offset, double sign) {
        double c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        double r0 = 0, r1 = 0, r2 = 0, r3 = 0;
        int k = 0;
        for (; k + 3 < width; k += 4) {
            double a0 = a[base + k], a1 = a[base + k + 1], a2 = a[base + k + 2];
            double a3 = a[base + k + 3];
            int j = offset + k;
            c0 += a0 * centre[j];
            c1 += a1 * centre[j + 1];
            c2 += a2 * centre[j + 2];
            c3 += a3 * centre[j + 3];
            r0 += Math.abs(a0) * radius[j];
            r1 += Math.abs(a1) * radius[j + 1];
            r2 += Math.abs(a2) * radius[j + 2];
            r3 += Math.abs(a3) * radius[j + 3];
        }
        for (; k < width; k++) {
            c0 += a[base + k] * centre[offset + k];
            r0 += Math.abs(a[base + k]) * radius[offset + k];
        }
        return (c0 + c1) + (c2 + c3) + sign * ((r0 + r1) + (r2 + r3));
    }

    /** a[base..base+n) . b[0..n), with four partial sums (see {@link #centreMinusRadius}). */
    static double dot(double[] a, int base, double[] b, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        for (; k + 3 < n; k += 4) {
            s0 += a[base + k] * b[k];
            s1 += a[base + k + 1] * b[k + 1];
            s2 += a[base + k + 2] * b[k + 2];
            s3 += a[base + k + 3] * b[k + 3];
        }
        for (; k < n; k++) {
            s0 += a[base + k] * b[k];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
