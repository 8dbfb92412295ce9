package org.robustflow.pipeline.records;

/**
 * One VNN-LIB property of a suite on its way through the job; {@code snapshot} is the model's
 * encoded {@code ModelSnapshot} once the property has met its model, null before.
 */
public class PropertyTask {
    public String suiteId;
    public String propertyId;
    public String modelVersion;
    public String vnnlib;
    public long timeoutMs;
    public int expectedTotal;
    public byte[] snapshot;

    /** When the task started waiting for its model (processing time, ms); 0 when it did not. */
    public long waitingSince;

    /** Why the task cannot be decided (e.g. its model never came); null when it can. */
    public String error;

    public PropertyTask() {}

    public PropertyTask(
            String suiteId,
            String propertyId,
            String modelVersion,
            String vnnlib,
            long timeoutMs,
            int expectedTotal) {
        this.suiteId = suiteId;
        this.propertyId = propertyId;
        this.modelVersion = modelVersion;
        this.vnnlib = vnnlib;
        this.timeoutMs = timeoutMs;
        this.expectedTotal = expectedTotal;
    }

    /** The same task, answered {@code error} with {@code reason} instead of being decided. */
    public PropertyTask withError(String reason) {
        PropertyTask t =
                new PropertyTask(
                        suiteId, propertyId, modelVersion, vnnlib, timeoutMs, expectedTotal);
        t.error = reason;
        return t;
    }

    /** The same task with its model attached. */
    public PropertyTask withSnapshot(byte[] modelSnapshot) {
        PropertyTask t =
                new PropertyTask(
                        suiteId, propertyId, modelVersion, vnnlib, timeoutMs, expectedTotal);
        t.snapshot = modelSnapshot;
        return t;
    }
}
