package org.robustflow.spec;

import java.util.Arrays;

/**
 * One linear constraint {@code coefficients . y <= bound} over a network's outputs y (logits).
 *
 * <p>VNN-LIB's {@code (>= Y_0 Y_4)} is {@code Y_4 - Y_0 <= 0}: coefficients +1 at 4, -1 at 0, bound
 * 0.
 */
public record LinearConstraint(double[] coefficients, double bound) {
    public LinearConstraint {
        coefficients = coefficients.clone();
        if (!Double.isFinite(bound)) {
            throw new IllegalArgumentException("bound must be finite, got " + bound);
        }
    }

    /** {@code y_a - y_b <= 0}, i.e. y_b >= y_a: "output b is at least output a". */
    public static LinearConstraint atLeast(int outputs, int b, int a) {
        double[] c = new double[outputs];
        c[a] += 1;
        c[b] -= 1;
        return new LinearConstraint(c, 0);
    }

    @Override
    public double[] coefficients() {
        return coefficients.clone();
    }

    public double coefficient(int i) {
        return coefficients[i];
    }

    public int outputs() {
        return coefficients.length;
    }

    /** bound - coefficients . y, in double: >= 0 where the constraint holds (up to rounding). */
    public double slack(double[] y) {
        double s = bound;
        for (int i = 0; i < coefficients.length; i++) {
            s -= coefficients[i] * y[i];
        }
        return s;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LinearConstraint other
                && bound == other.bound
                && Arrays.equals(coefficients, other.coefficients);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(coefficients) + Double.hashCode(bound);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < coefficients.length; i++) {
            if (coefficients[i] != 0) {
                s.append(s.length() == 0 ? "" : " + ")
                        .append(coefficients[i])
                        .append("*Y_")
                        .append(i);
            }
        }
        return (s.length() == 0 ? "0" : s) + " <= " + bound;
    }
}
