package org.robustflow.pipeline.records;

/**
 * Input the job could not use, with the reason and the original bytes, for the dead-letter topic.
 */
public class DeadLetterEvent {
    public String source;
    public int partition;
    public long offset;
    public String reason;
    public byte[] payload;

    /** The run of a rejected image when known, else null. */
    public String runId;

    /** The rejected image's id, -1 when unknown. */
    public long imageId = -1;

    /** Images in the rejected image's run when the record said, else 0. */
    public int expectedTotal;

    public DeadLetterEvent() {}

    public DeadLetterEvent(
            String source, int partition, long offset, String reason, byte[] payload) {
        this.source = source;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
        this.payload = payload;
    }

    /** The same dead letter, naming the image of a run it rejects. */
    public DeadLetterEvent forImage(String runId, long imageId, int expectedTotal) {
        this.runId = runId;
        this.imageId = imageId;
        this.expectedTotal = expectedTotal;
        return this;
    }

    @Override
    public String toString() {
        return source + "[" + partition + "@" + offset + "]: " + reason;
    }
}
