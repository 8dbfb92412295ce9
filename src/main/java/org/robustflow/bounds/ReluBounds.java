package org.robustflow.bounds;

/**
 * ReLU bounds. Box: ReLU is monotone, so max(0, lower) and max(0, upper), exact with no rounding.
 *
 * <p>Back-substitution: for input bounds [l, u], stable neurons are exact (slope 1 or 0). An
 * unstable one (l &lt; 0 &lt; u) is relaxed by the triangle's upper side h &lt;= s (z - l), s = u /
 * (u - l), and the lower line h &gt;= a z with the adaptive slope a = 1 when u &gt; -l, else 0
 * (CROWN's choice, which minimises the area). A positive coefficient of a lower bound takes the
 * lower line, a negative one the upper line; the other way round for upper bounds.
 */
final class ReluBounds implements LayerBounds {
    static final ReluBounds INSTANCE = new ReluBounds();

    private ReluBounds() {}

    @Override
    public Interval box(Interval in) {
        double[] lower = new double[in.lower().length];
        double[] upper = new double[lower.length];
        for (int k = 0; k < lower.length; k++) {
            lower[k] = Math.max(0.0, in.lower()[k]);
            upper[k] = Math.max(0.0, in.upper()[k]);
        }
        return new Interval(lower, upper, in.rows(), in.width());
    }

    @Override
    public LinearBounds backSubstitute(
            LinearBounds over, double[] inputLower, double[] inputUpper) {
        int n = over.width;
        double[] lowerSlope = new double[n];
        double[] upperSlope = new double[n];
        double[] upperIntercept = new double[n];
        for (int k = 0; k < n; k++) {
            double l = inputLower[k];
            double u = inputUpper[k];
            if (l >= 0) {
                lowerSlope[k] = 1;
                upperSlope[k] = 1;
            } else if (u > 0) {
                double s = u / (u - l);
                upperSlope[k] = s;
                upperIntercept[k] = -s * l;
                lowerSlope[k] = u > -l ? 1 : 0;
            }
        }
        double[] zero = new double[n];
        double[] lowerA = new double[over.lowerA.length];
        double[] lowerC = over.lowerC.clone();
        // Lower bound: positive coefficients take the lower line, negative ones the upper line.
        relax(
                over.lowerA,
                lowerA,
                lowerC,
                over.rows,
                n,
                lowerSlope,
                zero,
                upperSlope,
                upperIntercept);
        double[] upperA = null;
        double[] upperC = null;
        if (over.hasUpper()) {
            upperA = new double[over.upperA.length];
            upperC = over.upperC.clone();
            relax(
                    over.upperA,
                    upperA,
                    upperC,
                    over.rows,
                    n,
                    upperSlope,
                    upperIntercept,
                    lowerSlope,
                    zero);
        }
        return new LinearBounds(over.rows, n, lowerA, lowerC, upperA, upperC);
    }

    /**
     * Replaces each h_k by the line chosen by the sign of its coefficient; intercepts go to the
     * constant.
     */
    private static void relax(
            double[] a,
            double[] out,
            double[] c,
            int rows,
            int n,
            double[] positiveSlope,
            double[] positiveIntercept,
            double[] negativeSlope,
            double[] negativeIntercept) {
        for (int q = 0; q < rows; q++) {
            int base = q * n;
            double constant = c[q];
            for (int k = 0; k < n; k++) {
                double coefficient = a[base + k];
                if (coefficient >= 0) {
                    out[base + k] = coefficient * positiveSlope[k];
                    constant += coefficient * positiveIntercept[k];
                } else {
                    out[base + k] = coefficient * negativeSlope[k];
                    constant += coefficient * negativeIntercept[k];
                }
            }
            c[q] = constant;
        }
    }
}
