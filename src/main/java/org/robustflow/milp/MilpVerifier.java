package org.robustflow.milp;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.model.Network;

import java.io.Serializable;

/**
 * Decides exactly whether some point of an eps-box changes the class, for the margins the bounds
 * could not prove. Behind an interface so the streaming job can take another implementation.
 */
public interface MilpVerifier extends Serializable {
    /** The method name verdicts of this verifier carry. */
    default String method() {
        return "milp";
    }

    /**
     * @param bounds sound per-neuron bounds for this (image, eps) and the margins they already
     *     prove
     * @param timeLimitMs for the whole query
     */
    MilpResult verify(
            Network network,
            double[] x,
            int label,
            double eps,
            CrownPropagator.RowBounds bounds,
            long timeLimitMs);
}
