package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.data.AvroCodec;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ModelEvent;

/**
 * Reads models from Kafka; undecodable messages become dead letters. Whether a decoded model fits
 * the images is checked where models are applied ({@code ExpandEpsilons}).
 */
public final class ModelDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetterEvent, ModelEvent>> {
    private static final long serialVersionUID = 1L;

    private transient AvroCodec<ModelSnapshot> codec;

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<DeadLetterEvent, ModelEvent>> out) {
        if (codec == null) {
            codec = AvroCodec.of(ModelSnapshot.class);
        }
        try {
            // Re-encoded with the job's own schema, whatever schema version the producer wrote.
            out.collect(Either.Right(ModelEvent.of(codec.decode(record.value()))));
        } catch (Exception e) {
            out.collect(
                    Either.Left(
                            new DeadLetterEvent(
                                    record.topic(),
                                    record.partition(),
                                    record.offset(),
                                    e.getMessage(),
                                    record.value())));
        }
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, ModelEvent>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, ModelEvent>>() {});
    }
}
