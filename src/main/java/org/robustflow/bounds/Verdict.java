package org.robustflow.bounds;

/** The outcome for one (image, eps) pair. */
public enum Verdict {
    /** Every point of the eps-box is classified as the label: proven. */
    CERTIFIED,
    /** A re-checked point of the box is classified otherwise: a counterexample exists. */
    FALSIFIED,
    /** The clean image itself is misclassified, so the pair cannot be robust. */
    MISCLASSIFIED,
    /** The method could not decide. */
    UNKNOWN,
    /** An exact method ran out of time. */
    TIMEOUT;

    /** Whether this verdict settles the pair for good (no other method can change it). */
    public boolean isDecided() {
        return this == CERTIFIED || this == FALSIFIED || this == MISCLASSIFIED;
    }
}
