package org.robustflow.pipeline.kafka;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.VerdictRecord;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.data.AvroCodec;
import org.robustflow.local.EmbeddedKafka;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.OpenTransactions;
import org.robustflow.testutils.ReferenceVerdicts;
import org.robustflow.verify.Sweep;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * End to end on a real KRaft broker in this JVM and a MiniCluster at parallelism 2: 1000 MNIST test
 * images x 10 eps plus malformed messages in, exact results, exactly-once verdicts and dead letters
 * out.
 */
class KafkaVerificationJobITCase {
    private static final int IMAGES = 1000;
    private static EmbeddedKafka kafka;
    private static final List<KafkaProducer<byte[], byte[]>> ZOMBIES = new ArrayList<>();

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafka.start(Files.createTempDirectory(Path.of("target"), "kafka-"), 0);
    }

    @AfterAll
    static void stopKafka() {
        ZOMBIES.forEach(z -> z.close(Duration.ZERO));
        kafka.close();
    }

    @Test
    void shouldMatchTheOfflineBoxSweepWithExactlyOnceVerdictsAndDeadLetters() throws Exception {
        Topics topics =
                Topics.defaults(kafka.bootstrapServers()).withSuffix("." + UUID.randomUUID());
        topics.createIfAbsent();
        // The fixed model of the independent reference (tools/reference_verdicts.py).
        Network mlp = ReferenceVerdicts.model();
        ReferenceVerdicts reference = ReferenceVerdicts.box();
        double[] eps = EpsilonGrid.parse("0.001:0.01:10");
        String runId = "it-" + UUID.randomUUID();

        // Step 1: produce the model, the images and five malformed messages.
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(
                    producer, topics.models(), ModelIo.toSnapshot(mlp, null, null, "test"));
            KafkaClients.publishModel(
                    producer,
                    topics.models(),
                    ModelIo.toSnapshot(
                            Fixtures.randomMlp(1, 100, 10, 10), null, null, "wrong shape"));
            KafkaClients.produceImages(
                    producer, topics.images(), Fixtures.mnistTest(), runId, IMAGES, 0, k -> {});
            AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
            byte[] good = codec.encode(image(runId, 0, 7, new byte[784]));
            producer.send(
                    new ProducerRecord<>(
                            topics.images(), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
            producer.send(
                    new ProducerRecord<>(topics.images(), Arrays.copyOf(good, good.length / 2)));
            producer.send(
                    new ProducerRecord<>(
                            topics.images(), codec.encode(image(runId, 5000, 3, new byte[783]))));
            producer.send(
                    new ProducerRecord<>(
                            topics.images(), codec.encode(image(runId, 5001, 12, new byte[784]))));
            producer.flush();
        }

        // Step 2: a transaction under the results sink's prefix, open as a crashed attempt leaves
        // it (its producer stays alive until the end: closing it would abort it), under an id
        // that aborting ids one after another from the first never reaches. Then the job.
        ZOMBIES.add(zombie(topics, "robustflow-results-" + topics.results() + "-0-1000"));
        runJob(topics, eps);

        // Step 3: verify with read_committed consumers.
        Sweep.Report expected =
                Sweep.run(mlp, Fixtures.mnistTest().head(IMAGES), eps, 2, 64, k -> {});
        Map<String, EpsilonAccuracy> finals = new HashMap<>();
        for (EpsilonAccuracy a :
                readAll(
                        topics.results(),
                        AvroCodec.of(EpsilonAccuracy.class),
                        Function.identity())) {
            if (a.getComplete()) {
                finals.put(EpsilonGrid.key(a.getEps()), a);
            }
        }
        assertThat(finals)
                .as(() -> "complete results; " + OpenTransactions.describe(topics))
                .hasSize(eps.length);
        assertThat(OpenTransactions.ids(topics))
                .as("transactions the job left open")
                .noneMatch(id -> id.contains(topics.results()));
        for (int e = 0; e < eps.length; e++) {
            EpsilonAccuracy a = finals.get(EpsilonGrid.key(eps[e]));
            assertThat(a.getSeen()).isEqualTo(IMAGES);
            assertThat(a.getCertified())
                    .as("certified at %s", eps[e])
                    .isEqualTo(expected.certified(e));
            assertThat(a.getMisclassified()).isEqualTo(IMAGES - expected.correct());
            assertThat(a.getModelVersion()).isEqualTo(mlp.version());
            // ... and the independent reference, not computed by our classes.
            assertThat(a.getCertified())
                    .as("certified at %s, reference", eps[e])
                    .isEqualTo(reference.certifiedCount(eps[e], IMAGES));
            assertThat(a.getMisclassified()).isEqualTo(reference.misclassifiedCount(IMAGES));
        }

        List<VerdictRecord> verdicts =
                readAll(topics.verdicts(), AvroCodec.of(VerdictRecord.class), Function.identity());
        assertThat(verdicts).hasSize(IMAGES * eps.length);
        Set<String> pairs = new HashSet<>();
        verdicts.forEach(v -> pairs.add(v.getImageId() + "@" + v.getEps()));
        assertThat(pairs).hasSize(IMAGES * eps.length);
        for (VerdictRecord v : verdicts) {
            int image = (int) v.getImageId();
            String expectedVerdict =
                    reference.misclassified(image)
                            ? "MISCLASSIFIED"
                            : reference.certified(image, v.getEps()) ? "CERTIFIED" : "UNKNOWN";
            assertThat(v.getVerdict().name())
                    .as("image %d eps %s", image, v.getEps())
                    .isEqualTo(expectedVerdict);
        }

        List<String> reasons =
                readAll(topics.deadLetters(), AvroCodec.of(DeadLetter.class), d -> d.getReason());
        assertThat(reasons).hasSize(5);
        assertThat(String.join("\n", reasons))
                .contains("not a MnistImage")
                .contains("pixel count 783")
                .contains("label 12 is out of range")
                .contains("takes 100 inputs");
    }

    @Test
    void shouldProduceImagesAndPublishModelsFromTheCommandLine() throws Exception {
        String suffix = "." + UUID.randomUUID();
        Topics topics = Topics.defaults(kafka.bootstrapServers()).withSuffix(suffix);
        String[] common = {
            "--bootstrap-servers", kafka.bootstrapServers(), "--topic-suffix", suffix
        };
        int produced =
                org.robustflow.cli.Main.commandLine()
                        .execute(
                                concat(
                                        new String[] {
                                            "produce",
                                            "--limit",
                                            "25",
                                            "--run-id",
                                            "cli-run",
                                            "--data-dir",
                                            Fixtures.MNIST_DIR.toString()
                                        },
                                        common));
        int published =
                org.robustflow.cli.Main.commandLine()
                        .execute(
                                concat(
                                        new String[] {
                                            "publish-model",
                                            "--model",
                                            Fixtures.defaultModelFile().toString()
                                        },
                                        common));
        assertThat(produced).isZero();
        assertThat(published).isZero();

        List<MnistImage> images =
                readAll(topics.images(), AvroCodec.of(MnistImage.class), Function.identity());
        assertThat(images).hasSize(25);
        assertThat(images).extracting(MnistImage::getRunId).containsOnly("cli-run");
        assertThat(images).extracting(MnistImage::getExpectedTotal).containsOnly(25);
        assertThat(images.stream().mapToLong(MnistImage::getImageId).sorted().toArray())
                .containsExactly(java.util.stream.LongStream.range(0, 25).toArray());
        List<String> versions =
                readAll(
                        topics.models(),
                        AvroCodec.of(org.robustflow.avro.ModelSnapshot.class),
                        m -> m.getVersion());
        assertThat(versions).containsExactly(Fixtures.defaultModel().version());
    }

    /** Runs the bounded job over what is in the topics. */
    private static void runJob(Topics topics, double[] eps) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        KafkaVerificationJob.define(
                env,
                topics,
                JobConfig.builder()
                        .method("box")
                        .attack(false)
                        .milp(-1, 0, 1)
                        .eps(eps)
                        .boundParallelism(2)
                        .resultIntervalMs(100)
                        .build(),
                true);
        env.execute("robustflow-it");
    }

    /** A producer holding an open transaction with a record in every partition of results. */
    private static KafkaProducer<byte[], byte[]> zombie(Topics topics, String transactionalId)
            throws Exception {
        Properties p = topics.clientProperties();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "900000");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p);
        producer.initTransactions();
        producer.beginTransaction();
        for (var partition : producer.partitionsFor(topics.results())) {
            producer.send(
                            new ProducerRecord<>(
                                    topics.results(),
                                    partition.partition(),
                                    "zombie".getBytes(StandardCharsets.UTF_8),
                                    new byte[] {0}))
                    .get(); // in the log, or the test proves nothing (results is compacted)
        }
        return producer;
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static MnistImage image(String runId, long id, int label, byte[] pixels) {
        return MnistImage.newBuilder()
                .setRunId(runId)
                .setImageId(id)
                .setLabel(label)
                .setWidth(28)
                .setHeight(28)
                .setPixels(ByteBuffer.wrap(pixels))
                .setExpectedTotal(IMAGES)
                .setProducedAt(java.time.Instant.now())
                .build();
    }

    private static <R extends org.apache.avro.specific.SpecificRecordBase, T> List<T> readAll(
            String topic, AvroCodec<R> codec, Function<R, T> map) throws Exception {
        List<T> out = new ArrayList<>();
        for (byte[] value :
                KafkaClients.readCommitted(
                        Topics.defaults(kafka.bootstrapServers()), topic, Duration.ofSeconds(5))) {
            out.add(map.apply(codec.decode(value)));
        }
        return out;
    }
}
