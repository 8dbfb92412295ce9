package org.robustflow.data;

import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Avro single-object encoding for Kafka messages: a 2-byte marker, the 8-byte fingerprint of the
 * writer schema, then the binary datum. No schema registry is needed; a reader resolves any writer
 * schema it has been told about ({@link #addWriterSchema}) to its own, so a compatible schema
 * change on the producer side does not break the job.
 */
public final class AvroCodec<T extends SpecificRecordBase> {
    private final BinaryMessageEncoder<T> encoder;
    private final BinaryMessageDecoder<T> decoder;
    private final String typeName;

    private AvroCodec(Class<T> type) {
        SpecificData model = SpecificData.getForClass(type);
        Schema schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.decoder = new BinaryMessageDecoder<>(model, schema, new SchemaStore.Cache());
        this.typeName = schema.getName();
    }

    public static <T extends SpecificRecordBase> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type);
    }

    /**
     * Lets the decoder resolve messages written with another (compatible) version of the schema.
     */
    public AvroCodec<T> addWriterSchema(Schema writer) {
        decoder.addSchema(writer);
        return this;
    }

    public byte[] encode(T record) {
        try {
            ByteBuffer buf = encoder.encode(record);
            byte[] bytes = new byte[buf.remaining()];
            buf.get(bytes);
            return bytes;
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode " + typeName + ": " + e.getMessage(), e);
        }
    }

    /**
     * @throws IOException with a readable reason for bytes that are not a {@code T} in
     *     single-object encoding of a known schema
     */
    public T decode(byte[] bytes) throws IOException {
        if (bytes == null || bytes.length == 0) {
            throw new IOException("empty message, expected a " + typeName);
        }
        try {
            return decoder.decode(bytes);
        } catch (IOException
                | AvroRuntimeException
                | IndexOutOfBoundsException
                | NegativeArraySizeException e) {
            throw new IOException(
                    "not a " + typeName + " in Avro single-object encoding: " + e.getMessage(), e);
        }
    }
}
