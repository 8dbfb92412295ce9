package org.robustflow.pipeline.records;

/**
 * Robust accuracy of one (run, model version, eps) so far.
 *
 * <p>lower = certified / seen (what is proven); upper = (seen - falsified - misclassified) / seen
 * (what is not yet refuted). {@code complete} once {@code seen} reaches the run's expected total.
 */
public class AccuracyEvent {
    public String runId;
    public String modelVersion;
    public double eps;
    public int expectedTotal;
    public long seen;
    public long certified;
    public long falsified;
    public long misclassified;
    public long unknown;
    public double robustAccuracyLower;
    public double robustAccuracyUpper;
    public boolean complete;

    /** Per deciding method: bounds (box or crown) and MILP certify, PGD and MILP falsify. */
    public long certifiedByBounds;

    public long certifiedByMilp;
    public long falsifiedByPgd;
    public long falsifiedByMilp;
    public long updatedAt;

    public AccuracyEvent() {}

    /** The results-topic key: run/model/eps. */
    public String key() {
        return runId + "/" + modelVersion + "/" + org.robustflow.bounds.EpsilonGrid.key(eps);
    }

    @Override
    public String toString() {
        return key()
                + " seen="
                + seen
                + " certified="
                + certified
                + " falsified="
                + falsified
                + " misclassified="
                + misclassified
                + " unknown="
                + unknown
                + (complete ? " complete" : "");
    }
}
