package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.data.AvroCodec;
import org.robustflow.model.ModelIo;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ModelEvent;

/**
 * Reads models from Kafka and never throws. The version is never taken from the message: it is
 * computed here from architecture and weights ({@code Network.version()}). A message claiming
 * another version, an undecodable one, or one whose weights are not a valid network becomes a dead
 * letter with the reason; an empty claimed version is filled in. So two different models can never
 * share a version inside the job. Whether a model fits the images is checked where models are
 * applied ({@code ExpandEpsilons}).
 */
public final class ModelDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetterEvent, ModelEvent>> {
    private static final long serialVersionUID = 1L;

    private transient AvroCodec<ModelSnapshot> codec;

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<DeadLetterEvent, ModelEvent>> out) {
        out.collect(decode(record.topic(), record.partition(), record.offset(), record.value()));
    }

    /** The model in a message, or the dead letter saying why there is none. Never throws. */
    public Either<DeadLetterEvent, ModelEvent> decode(
            String topic, int partition, long offset, byte[] value) {
        if (codec == null) {
            codec = ModelIo.codec();
        }
        try {
            // Checks shapes and values, and a non-empty claimed version against the weights.
            ModelSnapshot snapshot = ModelIo.withComputedVersion(codec.decode(value));
            // Re-encoded with the job's own schema, whatever schema version the producer wrote.
            return Either.Right(ModelEvent.of(snapshot));
        } catch (Exception e) {
            return Either.Left(
                    new DeadLetterEvent(topic, partition, offset, Records.reason(e), value));
        }
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, ModelEvent>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, ModelEvent>>() {});
    }
}
