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

    public DeadLetterEvent() {}

    public DeadLetterEvent(
            String source, int partition, long offset, String reason, byte[] payload) {
        this.source = source;
        this.partition = partition;
        this.offset = offset;
        this.reason = reason;
        this.payload = payload;
    }

    @Override
    public String toString() {
        return source + "[" + partition + "@" + offset + "]: " + reason;
    }
}
