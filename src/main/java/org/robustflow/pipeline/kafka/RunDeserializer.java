package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.typeinfo.TypeHint;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.robustflow.avro.RunAnnouncement;
import org.robustflow.data.AvroCodec;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.RunSignal;

/** Reads run announcements from Kafka and never throws: bad messages become dead letters. */
public final class RunDeserializer
        implements KafkaRecordDeserializationSchema<Either<DeadLetterEvent, RunSignal>> {
    private static final long serialVersionUID = 1L;

    private transient AvroCodec<RunAnnouncement> codec;

    @Override
    public void deserialize(
            ConsumerRecord<byte[], byte[]> record,
            Collector<Either<DeadLetterEvent, RunSignal>> out) {
        out.collect(decode(record.topic(), record.partition(), record.offset(), record.value()));
    }

    /** The announcement in a message, or the dead letter saying why there is none. */
    public Either<DeadLetterEvent, RunSignal> decode(
            String topic, int partition, long offset, byte[] value) {
        if (codec == null) {
            codec = AvroCodec.of(RunAnnouncement.class);
        }
        String problem;
        try {
            RunAnnouncement a = codec.decode(value);
            if (a.getRunId().isEmpty()) {
                problem = "missing run id";
            } else if (a.getImageCount() < 0) {
                problem = "negative image count " + a.getImageCount();
            } else {
                return Either.Right(RunSignal.announced(a.getRunId(), a.getImageCount()));
            }
        } catch (Exception e) {
            problem = Records.reason(e);
        }
        return Either.Left(new DeadLetterEvent(topic, partition, offset, problem, value));
    }

    @Override
    public TypeInformation<Either<DeadLetterEvent, RunSignal>> getProducedType() {
        return TypeInformation.of(new TypeHint<Either<DeadLetterEvent, RunSignal>>() {});
    }
}
