package org.robustflow.data;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecordBase;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Avro single-object encoding for Kafka messages: a 2-byte marker, the 8-byte fingerprint of the
 * writer schema, then the binary datum. No schema registry is needed; a reader resolves any writer
 * schema it has been told about ({@link #addWriterSchema}) to its own, so a compatible schema
 * change on the producer side does not break the job.
 */
public final class AvroCodec<T extends SpecificRecordBase> {
    private static final byte[] MARKER = {(byte) 0xC3, (byte) 0x01};
    private static final int HEADER = 10;

    private final BinaryMessageEncoder<T> encoder;
    private final SpecificData model;
    private final Schema schema;
    private final Map<Long, DatumReader<T>> readers = new ConcurrentHashMap<>();
    private final String typeName;

    private AvroCodec(Class<T> type) {
        this.model = SpecificData.getForClass(type);
        this.schema = model.getSchema(type);
        this.encoder = new BinaryMessageEncoder<>(model, schema);
        this.typeName = schema.getName();
        addWriterSchema(schema);
    }

    public static <T extends SpecificRecordBase> AvroCodec<T> of(Class<T> type) {
        return new AvroCodec<>(type);
    }

    /**
     * Lets the decoder resolve messages written with another (compatible) version of the schema.
     */
    @SuppressWarnings("unchecked")
    public AvroCodec<T> addWriterSchema(Schema writer) {
        readers.put(
                SchemaNormalization.parsingFingerprint64(writer),
                (DatumReader<T>) model.createDatumReader(writer, schema));
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
            // Single-object encoding read by hand (BinaryMessageDecoder would do the same) so the
            // datum is read through a BoundedDecoder: a corrupt length must not allocate gigabytes.
            if (bytes.length < HEADER || bytes[0] != MARKER[0] || bytes[1] != MARKER[1]) {
                throw new IOException("no single-object header");
            }
            long fingerprint =
                    ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            DatumReader<T> reader = readers.get(fingerprint);
            if (reader == null) {
                throw new IOException(
                        "unknown writer schema, fingerprint " + Long.toHexString(fingerprint));
            }
            BinaryDecoder raw =
                    DecoderFactory.get().binaryDecoder(bytes, HEADER, bytes.length - HEADER, null);
            return reader.read(null, new BoundedDecoder(raw, bytes.length - HEADER));
        } catch (IOException | RuntimeException e) {
            throw new IOException(
                    "not a " + typeName + " in Avro single-object encoding: " + e.getMessage(), e);
        }
    }
}
