package org.robustflow.pipeline.kafka;

import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.MnistImage;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.VerdictRecord;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.MnistDataset;
import org.robustflow.local.EmbeddedKafka;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.testutils.Fixtures;
import org.robustflow.verify.Sweep;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The promises of the streaming job about runs and models, on a real KRaft broker and an unbounded
 * job on a MiniCluster (parallelism 2): a run completes across a model update and with a rejected
 * image; a job redeployed without a savepoint knows the models without publishing them again and
 * resumes the images where the last one committed; a model claiming another model's version is
 * never used under that version.
 */
class RunLifecycleITCase {
    private static final double[] EPS = {0.001, 0.005, 0.01};
    private static EmbeddedKafka kafka;

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
        kafka.close();
    }

    private static Topics freshTopics() throws Exception {
        Topics topics =
                Topics.defaults(kafka.bootstrapServers()).withSuffix("." + UUID.randomUUID());
        topics.createIfAbsent();
        return topics;
    }

    private static JobClient startJob(Topics topics) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        KafkaVerificationJob.define(
                env,
                topics,
                JobConfig.builder()
                        .method("box")
                        .attack(false)
                        .milp(-1, 0, 1)
                        .eps(EPS)
                        .resultIntervalMs(100)
                        .set(JobConfig.MODEL_RECHECK_MS, 50L)
                        .set(JobConfig.RUN_STALL_MS, 3_000L)
                        .build(),
                false);
        return env.executeAsync("robustflow-run-lifecycle");
    }

    /** Images {@code from..to-1} of the MNIST test set as run {@code runId} of {@code total}. */
    private static void produce(
            KafkaProducer<byte[], byte[]> producer,
            Topics topics,
            String runId,
            int from,
            int to,
            int total,
            int badLabelAt) {
        MnistDataset test = Fixtures.mnistTest();
        AvroCodec<MnistImage> codec = AvroCodec.of(MnistImage.class);
        for (int i = from; i < to; i++) {
            MnistImage image =
                    MnistImage.newBuilder()
                            .setRunId(runId)
                            .setImageId(i)
                            .setLabel(i == badLabelAt ? 12 : test.label(i))
                            .setWidth(28)
                            .setHeight(28)
                            .setPixels(ByteBuffer.wrap(test.rawPixels(i)))
                            .setExpectedTotal(total)
                            .setProducedAt(Instant.now())
                            .build();
            producer.send(
                    new ProducerRecord<>(
                            topics.images(),
                            (runId + "/" + i).getBytes(StandardCharsets.UTF_8),
                            codec.encode(image)));
        }
        producer.flush();
    }

    /** Follows the run until it is complete; its final rows. */
    private static Collection<EpsilonAccuracy> awaitComplete(Topics topics, String runId)
            throws Exception {
        return await(topics, runId, ResultsFollower::complete).latest().values();
    }

    private static ResultsFollower await(
            Topics topics, String runId, java.util.function.Predicate<ResultsFollower> done) {
        long deadline = System.currentTimeMillis() + 180_000;
        try (ResultsFollower follower = new ResultsFollower(topics, runId, null)) {
            while (!done.test(follower)) {
                follower.poll(Duration.ofMillis(300));
                if (System.currentTimeMillis() > deadline) {
                    fail("run " + runId + " did not get there: " + follower.status());
                }
            }
            return follower;
        }
    }

    private static <R extends org.apache.avro.specific.SpecificRecordBase, T> List<T> readAll(
            String topic, Class<R> type, Function<R, T> map) throws Exception {
        AvroCodec<R> codec = AvroCodec.of(type);
        List<T> out = new ArrayList<>();
        for (byte[] value :
                KafkaClients.readCommitted(
                        Topics.defaults(kafka.bootstrapServers()), topic, Duration.ofSeconds(3))) {
            out.add(map.apply(codec.decode(value)));
        }
        return out;
    }

    private static ModelSnapshot snapshot(Network mlp) {
        return ModelIo.toSnapshot(mlp, null, null, "it");
    }

    @Test
    void shouldCompleteARunWhoseModelChangesMidRun() throws Exception {
        Topics topics = freshTopics();
        Network first = Fixtures.defaultModel();
        Network second = Fixtures.randomMlp(2, 784, 20, 10);
        String runId = "update-" + UUID.randomUUID();
        JobClient job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(producer, topics.models(), snapshot(first));
            KafkaClients.announceRun(producer, topics.runs(), runId, 40, "mnist/test");
            produce(producer, topics, runId, 0, 20, 40, -1);
            await(topics, runId, f -> f.status() != null && f.status().getImagesDone() >= 20);
            KafkaClients.publishModel(producer, topics.models(), snapshot(second));
            Thread.sleep(2_000); // the broadcast reaches expand-eps well within this
            produce(producer, topics, runId, 20, 40, 40, -1);

            Collection<EpsilonAccuracy> rows = awaitComplete(topics, runId);
            assertThat(rows)
                    .extracting(EpsilonAccuracy::getModelVersion)
                    .containsOnly(first.version(), second.version());
            assertThat(rows).hasSize(2 * EPS.length).allMatch(EpsilonAccuracy::getComplete);
            assertThat(rows.stream().mapToLong(EpsilonAccuracy::getSeen).sum())
                    .isEqualTo(40L * EPS.length);
            assertThat(rows.iterator().next().getImagesDone()).isEqualTo(40);

            List<VerdictRecord> verdicts =
                    readAll(topics.verdicts(), VerdictRecord.class, Function.identity());
            assertThat(verdicts).hasSize(40 * EPS.length);
            assertThat(verdicts)
                    .extracting(VerdictRecord::getModelVersion)
                    .containsOnly(first.version(), second.version());
            assertThat(verdicts)
                    .filteredOn(v -> v.getImageId() < 20)
                    .extracting(VerdictRecord::getModelVersion)
                    .containsOnly(first.version());
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void shouldCompleteARunWithARejectedImage() throws Exception {
        String suffix = "." + UUID.randomUUID();
        Topics topics = Topics.defaults(kafka.bootstrapServers()).withSuffix(suffix);
        topics.createIfAbsent();
        String runId = "rejected-" + UUID.randomUUID();
        JobClient job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(producer, topics.models(), snapshot(Fixtures.defaultModel()));
            KafkaClients.announceRun(producer, topics.runs(), runId, 10, "mnist/test");
            produce(producer, topics, runId, 0, 10, 10, 4);

            Collection<EpsilonAccuracy> rows = awaitComplete(topics, runId);
            assertThat(rows).hasSize(EPS.length);
            assertThat(rows).allMatch(a -> a.getRejected() == 1 && a.getSeen() == 9);
            List<DeadLetter> dead =
                    readAll(topics.deadLetters(), DeadLetter.class, Function.identity());
            assertThat(dead).hasSize(1);
            assertThat(dead.get(0).getReason()).contains("label 12");
            assertThat(dead.get(0).getRunId()).isEqualTo(runId);
            assertThat(dead.get(0).getImageId()).isEqualTo(4);

            // results --once finishes on the run-level flag and writes the rejected count.
            Path json = Files.createTempDirectory(Path.of("target"), "results-").resolve("r.json");
            int exit =
                    org.robustflow.cli.Main.commandLine()
                            .execute(
                                    "results",
                                    "--run",
                                    runId,
                                    "--once",
                                    "--timeout",
                                    "60",
                                    "--json",
                                    json.toString(),
                                    "--bootstrap-servers",
                                    kafka.bootstrapServers(),
                                    "--topic-suffix",
                                    suffix);
            assertThat(exit).isZero();
            assertThat(Files.readString(json))
                    .contains("\"complete\" : true")
                    .contains("\"rejected\" : 1");
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void shouldNameTheImagesARunStillWaitsFor() throws Exception {
        Topics topics = freshTopics();
        String runId = "missing-" + UUID.randomUUID();
        JobClient job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(producer, topics.models(), snapshot(Fixtures.defaultModel()));
            KafkaClients.announceRun(producer, topics.runs(), runId, 6, "mnist/test");
            produce(producer, topics, runId, 0, 2, 6, -1);
            produce(producer, topics, runId, 3, 5, 6, -1); // 2 and 5 never come

            ResultsFollower follower = await(topics, runId, f -> !f.missingImages().isEmpty());
            assertThat(follower.missingImages()).containsExactly(2L, 5L);
            assertThat(follower.status().getComplete()).isFalse();
            assertThat(follower.status().getImagesDone()).isEqualTo(4);
            assertThat(org.robustflow.cli.ResultsCommand.waitingFor(follower))
                    .contains("images 2, 5");

            produce(producer, topics, runId, 2, 3, 6, -1);
            produce(producer, topics, runId, 5, 6, 6, -1);
            assertThat(awaitComplete(topics, runId)).allMatch(a -> a.getSeen() == 6);
        } finally {
            job.cancel().get();
        }
    }

    @Test
    void shouldKnowTheModelsAndNotRepeatOldRunsAfterARedeployWithoutSavepoint() throws Exception {
        Topics topics = freshTopics();
        Network mlp = Fixtures.defaultModel();
        String first = "before-" + UUID.randomUUID();
        String second = "after-" + UUID.randomUUID();
        JobClient job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(producer, topics.models(), snapshot(mlp));
            KafkaClients.announceRun(producer, topics.runs(), first, 10, "mnist/test");
            produce(producer, topics, first, 0, 10, 10, -1);
            awaitComplete(topics, first);
            // Offsets are committed when a checkpoint completes, a moment after the results it
            // made visible: cancelling before that would replay the run by design.
            awaitCommittedToEnd(topics, topics.images());
            awaitCommittedToEnd(topics, topics.runs());
            // The group is past the model too: only reading the models from the earliest offset
            // lets the next job know it.
            awaitCommittedToEnd(topics, topics.models());
        } finally {
            job.cancel().get();
        }
        // The same job again, no savepoint, and the model is not published again.
        job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.announceRun(producer, topics.runs(), second, 10, "mnist/test");
            produce(producer, topics, second, 0, 10, 10, -1);
            Collection<EpsilonAccuracy> rows = awaitComplete(topics, second);
            assertThat(rows)
                    .extracting(EpsilonAccuracy::getModelVersion)
                    .containsOnly(mlp.version());
        } finally {
            job.cancel().get();
        }
        List<VerdictRecord> verdicts =
                readAll(topics.verdicts(), VerdictRecord.class, Function.identity());
        assertThat(verdicts).filteredOn(v -> v.getRunId().equals(second)).hasSize(10 * EPS.length);
        // The second job resumed from the offsets the first committed: the first run was
        // verified once, not again.
        assertThat(verdicts).filteredOn(v -> v.getRunId().equals(first)).hasSize(10 * EPS.length);
    }

    /** Waits until the job's consumer group has committed the end offset of every partition. */
    private static void awaitCommittedToEnd(Topics topics, String topic) throws Exception {
        long deadline = System.currentTimeMillis() + 60_000;
        try (Admin admin = Admin.create(topics.clientProperties())) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (var p :
                    admin.describeTopics(List.of(topic))
                            .allTopicNames()
                            .get()
                            .get(topic)
                            .partitions()) {
                latest.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            }
            Map<TopicPartition, Long> end = new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, info) -> end.put(tp, info.offset()));
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed =
                        admin.listConsumerGroupOffsets(KafkaVerificationJob.CONSUMER_GROUP)
                                .partitionsToOffsetAndMetadata()
                                .get();
                boolean done =
                        end.entrySet().stream()
                                .allMatch(
                                        e ->
                                                e.getValue() == 0
                                                        || (committed.get(e.getKey()) != null
                                                                && committed
                                                                                .get(e.getKey())
                                                                                .offset()
                                                                        >= e.getValue()));
                if (done) {
                    return;
                }
                if (System.currentTimeMillis() > deadline) {
                    fail(
                            "the job never committed "
                                    + topic
                                    + " to its end "
                                    + end
                                    + "; committed: "
                                    + committed);
                }
                Thread.sleep(200);
            }
        }
    }

    @Test
    void shouldNeverVerifyAModelUnderAnotherModelsVersion() throws Exception {
        Topics topics = freshTopics();
        Network genuine = Fixtures.defaultModel();
        Network impostor = Fixtures.randomMlp(3, 784, 20, 10);
        Network unnamed = Fixtures.randomMlp(4, 784, 20, 10);
        ModelSnapshot claimsGenuine = snapshot(impostor);
        claimsGenuine.setVersion(genuine.version());
        String firstRun = "claimed-" + UUID.randomUUID();
        String secondRun = "unnamed-" + UUID.randomUUID();
        int images = 30;
        JobClient job = startJob(topics);
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.publishModel(producer, topics.models(), snapshot(genuine));
            producer.send(
                            new ProducerRecord<>(
                                    topics.models(),
                                    "impostor".getBytes(StandardCharsets.UTF_8),
                                    AvroCodec.of(ModelSnapshot.class).encode(claimsGenuine)))
                    .get();
            KafkaClients.announceRun(producer, topics.runs(), firstRun, images, "mnist/test");
            produce(producer, topics, firstRun, 0, images, images, -1);
            Collection<EpsilonAccuracy> rows = awaitComplete(topics, firstRun);

            // Every verdict is the genuine model's: the offline sweep of its weights.
            Sweep.Report expected =
                    Sweep.run(genuine, Fixtures.mnistTest().head(images), EPS, 1, 64, k -> {});
            assertThat(rows).hasSize(EPS.length);
            for (EpsilonAccuracy a : rows) {
                assertThat(a.getModelVersion()).isEqualTo(genuine.version());
                int e = indexOf(a.getEps());
                assertThat(a.getCertified()).isEqualTo(expected.certified(e));
                assertThat(a.getMisclassified()).isEqualTo(images - expected.correct());
            }
            List<String> reasons =
                    readAll(topics.deadLetters(), DeadLetter.class, DeadLetter::getReason);
            assertThat(reasons).hasSize(1);
            assertThat(reasons.get(0))
                    .contains("says version " + genuine.version())
                    .contains("hash to " + impostor.version());

            // A model without a version gets its computed one.
            ModelSnapshot noVersion = snapshot(unnamed);
            noVersion.setVersion("");
            producer.send(
                            new ProducerRecord<>(
                                    topics.models(),
                                    "unnamed".getBytes(StandardCharsets.UTF_8),
                                    AvroCodec.of(ModelSnapshot.class).encode(noVersion)))
                    .get();
            Thread.sleep(2_000);
            KafkaClients.announceRun(producer, topics.runs(), secondRun, 5, "mnist/test");
            produce(producer, topics, secondRun, 0, 5, 5, -1);
            assertThat(awaitComplete(topics, secondRun))
                    .extracting(EpsilonAccuracy::getModelVersion)
                    .containsOnly(unnamed.version());
        } finally {
            job.cancel().get();
        }
    }

    private static int indexOf(double eps) {
        Set<Integer> found = new HashSet<>();
        for (int e = 0; e < EPS.length; e++) {
            if (EPS[e] == eps) {
                found.add(e);
            }
        }
        assertThat(found).hasSize(1);
        return found.iterator().next();
    }
}
