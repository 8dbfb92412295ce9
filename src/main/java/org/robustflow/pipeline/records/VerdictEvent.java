package org.robustflow.pipeline.records;

import org.robustflow.bounds.Verdict;

/** The outcome for one (image, eps, model version), with the method that decided it. */
public class VerdictEvent {
    public String runId;
    public long imageId;
    public double eps;
    public String modelVersion;
    public Verdict verdict;

    /** box, crown, pgd or milp. */
    public String method;

    public int label;
    public int predicted;
    public double marginLowerBound;
    public int unstableRelus;
    public long micros;
    public int expectedTotal;

    /** The re-checked counterexample (pixels in [0,1]) when the verdict is FALSIFIED, else null. */
    public double[] witness;

    /** The class the network gives the witness, -1 without one. */
    public int witnessClass = -1;

    public VerdictEvent() {}

    public VerdictEvent(VerificationTask task, org.robustflow.verify.Decision d) {
        this(
                task,
                d.verdict(),
                d.method(),
                d.predicted(),
                d.marginLowerBound(),
                d.unstableRelus(),
                d.micros());
        this.witness = d.witness();
        this.witnessClass = d.witnessClass();
    }

    public VerdictEvent(
            VerificationTask task,
            Verdict verdict,
            String method,
            int predicted,
            double marginLowerBound,
            int unstableRelus,
            long micros) {
        this.runId = task.runId;
        this.imageId = task.imageId;
        this.eps = task.eps;
        this.modelVersion = task.modelVersion;
        this.verdict = verdict;
        this.method = method;
        this.label = task.label;
        this.predicted = predicted;
        this.marginLowerBound = marginLowerBound;
        this.unstableRelus = unstableRelus;
        this.micros = micros;
        this.expectedTotal = task.expectedTotal;
    }

    @Override
    public String toString() {
        return runId + "/" + imageId + "@" + eps + " " + verdict + " (" + method + ")";
    }
}
