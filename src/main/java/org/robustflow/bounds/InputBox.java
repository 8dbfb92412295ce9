package org.robustflow.bounds;

/**
 * The L-infinity ball of radius eps around an image, intersected with the pixel range [0,1].
 *
 * <p>The bounds are widened outward by {@link #WIDEN} (far below anything that changes a verdict),
 * so that the rounding of value/255 and of x ± eps can never make the box smaller than the real
 * one.
 */
public final class InputBox {
    /** Covers the rounding of x = p/255 and x ± eps (each at most 2^-53 for values in [0, 2]). */
    static final double WIDEN = 0x1p-48;

    private InputBox() {}

    /**
     * Writes the box of {@code x} at {@code eps} into {@code lower}/{@code upper} from {@code
     * offset}.
     */
    public static void write(double[] x, double eps, double[] lower, double[] upper, int offset) {
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("eps must be >= 0, got " + eps);
        }
        for (int k = 0; k < x.length; k++) {
            lower[offset + k] = Math.max(0.0, x[k] - eps - WIDEN);
            upper[offset + k] = Math.min(1.0, x[k] + eps + WIDEN);
        }
    }

    /** Lower and upper bound of the box: {lower, upper}. */
    public static double[][] of(double[] x, double eps) {
        double[] lower = new double[x.length];
        double[] upper = new double[x.length];
        write(x, eps, lower, upper, 0);
        return new double[][] {lower, upper};
    }

    /**
     * Whether {@code point} lies in the box of {@code x} at {@code eps} up to {@code tolerance}.
     */
    public static boolean contains(double[] x, double eps, double[] point, double tolerance) {
        for (int k = 0; k < x.length; k++) {
            double lo = Math.max(0.0, x[k] - eps);
            double hi = Math.min(1.0, x[k] + eps);
            if (!(point[k] >= lo - tolerance && point[k] <= hi + tolerance)) {
                return false;
            }
        }
        return true;
    }
}
