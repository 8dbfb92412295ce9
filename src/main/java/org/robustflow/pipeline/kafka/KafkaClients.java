package org.robustflow.pipeline.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RunAnnouncement;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.MnistDataset;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntConsumer;

/** Plain Kafka clients for the CLI and tests: producing images and models, consuming results. */
public final class KafkaClients {
    private KafkaClients() {}

    public static KafkaProducer<byte[], byte[]> producer(Topics topics) {
        Properties p = topics.clientProperties();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        // No duplicates on retry, and every record acknowledged before produce() reports it sent.
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        // One request in flight per connection: with more, a batch retried after an error (seen
        // here: NOT_LEADER_OR_FOLLOWER on a topic created a moment before) can find later batches
        // already written, and the broker then refuses it as out of sequence until it expires.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "1");
        // Models of imported networks exceed the 1 MB default (see Topics.MODEL_MAX_BYTES).
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, String.valueOf(Topics.MODEL_MAX_BYTES));
        return new KafkaProducer<>(p);
    }

    /**
     * A consumer that sees only committed transactions, from the earliest offset, in its own group.
     */
    public static KafkaConsumer<byte[], byte[]> committedReader(Topics topics) {
        Properties p = topics.clientProperties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "robustflow-reader-" + UUID.randomUUID());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG,
                ByteArrayDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    /**
     * Every committed message value on {@code topic}, read until nothing new arrives for {@code
     * idle}. Partitions are assigned directly, not through a consumer group: right after a broker
     * restart the group coordinator can take longer than {@code idle} to answer.
     */
    public static List<byte[]> readCommitted(Topics topics, String topic, Duration idle) {
        List<byte[]> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = committedReader(topics)) {
            List<TopicPartition> partitions =
                    consumer.partitionsFor(topic, Duration.ofSeconds(60)).stream()
                            .map(p -> new TopicPartition(p.topic(), p.partition()))
                            .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(60));
            long idleSince = System.currentTimeMillis();
            while (System.currentTimeMillis() - idleSince < idle.toMillis()
                    || !reached(consumer, end)) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                    idleSince = System.currentTimeMillis();
                }
                if (System.currentTimeMillis() - idleSince > 120_000) {
                    break; // the end offsets were not reached in two minutes: return what there is
                }
            }
        }
        return values;
    }

    /** Whether the consumer's positions are at the end offsets taken when reading started. */
    private static boolean reached(
            KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), Duration.ofSeconds(30)) < e.getValue()) {
                return false;
            }
        }
        return true;
    }

    public static void publishModel(
            KafkaProducer<byte[], byte[]> producer, String topic, ModelSnapshot snapshot)
            throws Exception {
        byte[] value = AvroCodec.of(ModelSnapshot.class).encode(snapshot);
        producer.send(
                        new ProducerRecord<>(
                                topic,
                                snapshot.getVersion().getBytes(StandardCharsets.UTF_8),
                                value))
                .get();
    }

    /**
     * Announces a run before its images: the job then knows how many images make the run complete
     * (ids 0..count-1), even if some never arrive.
     */
    public static void announceRun(
            KafkaProducer<byte[], byte[]> producer,
            String topic,
            String runId,
            int count,
            String source)
            throws Exception {
        producer.send(
                        new ProducerRecord<>(
                                topic,
                                runId.getBytes(StandardCharsets.UTF_8),
                                AvroCodec.of(RunAnnouncement.class)
                                        .encode(Records.announcement(runId, count, source))))
                .get();
    }

    /**
     * Streams the first {@code count} images of {@code data} under {@code runId}, and fails with
     * the count of images the broker did not take, if any, once all are sent.
     *
     * @param ratePerSecond at most this many images per second; 0 for no limit
     * @param progress told after each image
     */
    public static void produceImages(
            KafkaProducer<byte[], byte[]> producer,
            String topic,
            MnistDataset data,
            String runId,
            int count,
            double ratePerSecond,
            IntConsumer progress)
            throws InterruptedException {
        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<Exception> firstFailure = new AtomicReference<>();
        long start = System.nanoTime();
        for (int i = 0; i < count; i++) {
            if (ratePerSecond > 0) {
                long due = start + (long) (i / ratePerSecond * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
            }
            MnistImage image =
                    MnistImage.newBuilder()
                            .setRunId(runId)
                            .setImageId(i)
                            .setLabel(data.label(i))
                            .setWidth(data.cols())
                            .setHeight(data.rows())
                            .setPixels(ByteBuffer.wrap(data.rawPixels(i)))
                            .setSource(data.name())
                            .setExpectedTotal(count)
                            .setProducedAt(Instant.now())
                            .build();
            producer.send(
                    new ProducerRecord<>(
                            topic,
                            (runId + "/" + i).getBytes(StandardCharsets.UTF_8),
                            codec.encode(image)),
                    (metadata, e) -> {
                        if (e != null) {
                            failed.incrementAndGet();
                            firstFailure.compareAndSet(null, e);
                        }
                    });
            progress.accept(1);
        }
        producer.flush();
        if (failed.get() > 0) {
            throw new IllegalStateException(
                    failed.get() + " of " + count + " images were not delivered to " + topic,
                    firstFailure.get());
        }
    }
}
