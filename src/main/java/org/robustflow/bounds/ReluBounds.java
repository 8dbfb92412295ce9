package org.robustflow.bounds;

import org.nd4j.linalg.ops.transforms.Transforms;

/** ReLU is monotone, so box bounds are max(0, lower) and max(0, upper): exact, no rounding. */
final class ReluBounds implements LayerBounds {
    static final ReluBounds INSTANCE = new ReluBounds();

    private ReluBounds() {}

    @Override
    public Interval box(Interval in) {
        return new Interval(Transforms.relu(in.lower(), true), Transforms.relu(in.upper(), true));
    }
}
