package org.robustflow.pipeline.records;

/**
 * A model version travelling on the broadcast stream: its version and the Avro single-object
 * encoding of its {@code ModelSnapshot}, decoded once per operator instance and cached.
 */
public class ModelEvent {
    public String version;
    public byte[] snapshot;

    /** Key of this copy on its way to the operators that use models (see {@code ModelFanout}). */
    public String routingKey;

    public ModelEvent() {}

    public ModelEvent(String version, byte[] snapshot) {
        this.version = version;
        this.snapshot = snapshot;
    }

    /** Encodes a snapshot (Avro single-object encoding). */
    public static ModelEvent of(org.robustflow.avro.ModelSnapshot snapshot) {
        try {
            java.nio.ByteBuffer buf = snapshot.toByteBuffer();
            byte[] bytes = new byte[buf.remaining()];
            buf.get(bytes);
            return new ModelEvent(snapshot.getVersion(), bytes);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
