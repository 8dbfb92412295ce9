package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.robustflow.avro.PropertyQuery;
import org.robustflow.data.AvroCodec;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.PropertyTask;

/**
 * Reads property queries from Kafka and never throws: undecodable messages and queries without a
 * suite, property id or model version become dead letters. The VNN-LIB text itself is parsed where
 * the property is decided, so a malformed property gets an "error" answer in its suite.
 */
public final class PropertyDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetterEvent, PropertyTask>> {
    private static final long serialVersionUID = 1L;

    private transient AvroCodec<PropertyQuery> codec;

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<DeadLetterEvent, PropertyTask>> out) {
        out.collect(decode(record.topic(), record.partition(), record.offset(), record.value()));
    }

    /** The property in a message, or the dead letter saying why there is none. */
    public Either<DeadLetterEvent, PropertyTask> decode(
            String topic, int partition, long offset, byte[] value) {
        if (codec == null) {
            codec = AvroCodec.of(PropertyQuery.class);
        }
        String problem;
        try {
            PropertyQuery q = codec.decode(value);
            if (q.getSuiteId().isEmpty() || q.getPropertyId().isEmpty()) {
                problem = "missing suite or property id";
            } else if (q.getModelVersion().isEmpty()) {
                problem = "property " + q.getPropertyId() + " names no model version";
            } else if (q.getTimeoutMs() <= 0) {
                problem = "property " + q.getPropertyId() + " has timeout " + q.getTimeoutMs();
            } else {
                return Either.Right(
                        new PropertyTask(
                                q.getSuiteId(),
                                q.getPropertyId(),
                                q.getModelVersion(),
                                q.getVnnlib(),
                                q.getTimeoutMs(),
                                q.getExpectedTotal()));
            }
        } catch (Exception e) {
            problem = Records.reason(e);
        }
        return Either.Left(new DeadLetterEvent(topic, partition, offset, problem, value));
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, PropertyTask>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, PropertyTask>>() {});
    }
}
