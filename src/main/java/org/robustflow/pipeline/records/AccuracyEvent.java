package org.robustflow.pipeline.records;

/**
 * Robust accuracy of one (run, model version, eps) so far.
 *
 * <p>lower = certified / seen (what is proven); upper = (seen - falsified - misclassified) / seen
 * (what is not yet refuted). The run-level fields ({@code expectedTotal}, {@code rejected}, {@code
 * imagesDone}, {@code runRows}, {@code missingImages}, {@code complete}) are the same on every row
 * of a run: {@code complete} once every image of the run is verdicted at every eps under some model
 * version, or rejected.
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

    /** Images of the run rejected (dead letters). */
    public long rejected;

    /** Images of the run verdicted at every eps, or rejected. */
    public long imagesDone;

    /** (model version, eps) rows of the run. */
    public int runRows;

    /** Up to 100 ids of images not yet done, listed once the run has stalled; else empty. */
    public long[] missingImages = new long[0];

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
