package org.robustflow.bounds;

/** ReLU is monotone, so box bounds are max(0, lower) and max(0, upper): exact, no rounding. */
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
}
