package org.robustflow.pipeline.records;

/**
 * The answer for one property of a suite: {@code result} is sat, unsat, timeout, unknown or error;
 * a sat answer carries its re-checked counterexample and the outputs there.
 */
public class PropertyOutcome {
    public String suiteId;
    public String propertyId;
    public String modelVersion;
    public String result;
    public String method;
    public double seconds;
    public double[] counterexample;
    public double[] outputs;
    public int expectedTotal;

    public PropertyOutcome() {}

    public PropertyOutcome(
            PropertyTask task,
            String result,
            String method,
            double seconds,
            double[] counterexample,
            double[] outputs) {
        this.suiteId = task.suiteId;
        this.propertyId = task.propertyId;
        this.modelVersion = task.modelVersion;
        this.expectedTotal = task.expectedTotal;
        this.result = result;
        this.method = method;
        this.seconds = seconds;
        this.counterexample = counterexample;
        this.outputs = outputs;
    }

    /** The key of its results record: one answer per suite and property. */
    public String key() {
        return suiteId + "/" + propertyId;
    }
}
