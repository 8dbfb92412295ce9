package org.robustflow.pipeline.kafka;

import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.robustflow.data.AvroCodec;

import java.nio.charset.StandardCharsets;

/** Writes job records to a topic as Avro single-object encoded values with a string key. */
public final class AvroRecordSerializer<T, R extends SpecificRecordBase>
        implements KafkaRecordSerializationSchema<T> {
    private static final long serialVersionUID = 1L;

    private final String topic;
    private final Class<R> avroType;
    private final SerializableFunction<T, R> toAvro;
    private final SerializableFunction<T, String> key;
    private transient AvroCodec<R> codec;

    public AvroRecordSerializer(
            String topic,
            Class<R> avroType,
            SerializableFunction<T, R> toAvro,
            SerializableFunction<T, String> key) {
        this.topic = topic;
        this.avroType = avroType;
        this.toAvro = toAvro;
        this.key = key;
    }

    @Override
    public ProducerRecord<byte[], byte[]> serialize(
            T element, KafkaSinkContext context, Long timestamp) {
        if (codec == null) {
            codec = AvroCodec.of(avroType);
        }
        return new ProducerRecord<>(
                topic,
                key.apply(element).getBytes(StandardCharsets.UTF_8),
                codec.encode(toAvro.apply(element)));
    }
}
