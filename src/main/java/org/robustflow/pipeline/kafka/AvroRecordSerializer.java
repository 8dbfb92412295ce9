package org.robustflow.pipeline.kafka;

import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacetProvider;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.robustflow.data.AvroCodec;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Writes job records to a topic as Avro single-object encoded values with a string key. It names
 * its topic to the sink: the sink lists the open transactions on that topic to abort those a failed
 * attempt left behind.
 */
public final class AvroRecordSerializer<T, R extends SpecificRecordBase>
        implements KafkaRecordSerializationSchema<T>, KafkaDatasetFacetProvider {
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
    public Optional<KafkaDatasetFacet> getKafkaDatasetFacet() {
        return Optional.of(
                new DefaultKafkaDatasetFacet(
                        DefaultKafkaDatasetIdentifier.ofTopics(List.of(topic))));
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
