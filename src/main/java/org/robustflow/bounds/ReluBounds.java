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
    public LinearBounds backSubstitute(LinearBounds over, Interval input) {
        int n = over.width;
        int size = input.lower().length;
        double[] lowerSlope = new double[size];
        double[] upperSlope = new double[size];
        double[] upperIntercept = new double[size];
        double[] inputLower = input.lower();
        double[] inputUpper = input.upper();
        for (int k = 0; k < size; k++) {
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
        double[] zero = new double[size];
        double[] lowerA = new double[over.lowerA.length];
        double[] lowerC = over.lowerC.clone();
        // Lower bound: positive coefficients take the lower line, negative ones the upper line.
        relax(over, over.lowerA, lowerA, lowerC, lowerSlope, zero, upperSlope, upperIntercept);
        double[] upperA = null;
        double[] upperC = null;
        if (over.hasUpper()) {
            upperA = new double[over.upperA.length];
            upperC = over.upperC.clone();
            relax(over, over.upperA, upperA, upperC, upperSlope, upperIntercept, lowerSlope, zero);
        }
        return new LinearBounds(over.rows, n, lowerA, lowerC, upperA, upperC, over.rowQuery);
    }

    /**
     * Replaces each h_k by the line chosen by the sign of its coefficient, with the lines of the
     * row's query; intercepts go to the constant.
     */
    private static void relax(
            LinearBounds over,
            double[] a,
            double[] out,
            double[] c,
            double[] positiveSlope,
            double[] positiveIntercept,
            double[] negativeSlope,
            double[] negativeIntercept) {
        int n = over.width;
        for (int q = 0; q < over.rows; q++) {
            int base = q * n;
            int lines = over.query(q) * n;
            double constant = c[q];
            for (int k = 0; k < n; k++) {
                double coefficient = a[base + k];
                if (coefficient >= 0) {
                    out[base + k] = coefficient * positiveSlope[lines + k];
                    constant += coefficient * positiveIntercept[lines + k];
                } else {
                    out[base + k] = coefficient * negativeSlope[lines + k];
                    constant += coefficient * negativeIntercept[lines + k];
                }
            }
            c[q] = constant;
        }
    }
}
