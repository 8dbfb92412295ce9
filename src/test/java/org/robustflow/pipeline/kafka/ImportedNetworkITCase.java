package org.robustflow.pipeline.kafka;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.robustflow.attack.Witnesses;
import org.robustflow.avro.Counterexample;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.VerdictRecord;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.Verdict;
import org.robustflow.cli.Main;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.MnistDataset;
import org.robustflow.local.EmbeddedKafka;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Network;
import org.robustflow.model.onnx.OnnxImporter;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Bench;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.OnnxFixtures;
import org.robustflow.verify.Sweep;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An imported ONNX network with input normalisation (Sub/Div before the first Gemm) through the
 * whole job: published from its {@code .onnx} file by {@code publish-model} (a 2.2 MB model
 * message, above Kafka's 1 MB default), decided by CROWN and the MILP stage (which must encode the
 * normalisation layer), results complete under the imported network's version, every counterexample
 * re-checked against that network.
 */
class ImportedNetworkITCase {
    private static final int IMAGES = 40;
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

    @Test
    void shouldVerifyANormalisedOnnxNetworkPublishedFromItsFile() throws Exception {
        Path bench = Bench.mnistFc();
        assumeTrue(bench != null, "shared/bench/vnncomp2022-mnist_fc not found above the cwd");
        Path onnx =
                OnnxFixtures.write(
                        OnnxFixtures.normalised(
                                OnnxImporter.read(bench.resolve("onnx/mnist-net_256x2.onnx.gz"))),
                        Files.createTempDirectory(Path.of("target"), "onnx-")
                                .resolve("normalised-256x2.onnx"));
        Network net = OnnxImporter.read(onnx);
        assertThat(net.layers().get(0)).isInstanceOf(ElementwiseAffineLayer.class);
        String suffix = "." + UUID.randomUUID();
        Topics topics = Topics.defaults(kafka.bootstrapServers()).withSuffix(suffix);
        double[] eps = {0.01, 0.02};
        String runId = "onnx-" + UUID.randomUUID();
        MnistDataset images = Fixtures.mnistTest().head(IMAGES);

        // Step 1: publish the network from its ONNX file, then produce the images.
        int published =
                Main.commandLine()
                        .execute(
                                "publish-model",
                                "--model",
                                onnx.toString(),
                                "--bootstrap-servers",
                                kafka.bootstrapServers(),
                                "--topic-suffix",
                                suffix);
        assertThat(published).isZero();
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
            KafkaClients.produceImages(
                    producer, topics.images(), Fixtures.mnistTest(), runId, IMAGES, 0, k -> {});
            producer.flush();
        }

        // Step 2: run the job over what is in the topics, MILP stage on.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        KafkaVerificationJob.define(
                env,
                topics,
                JobConfig.builder()
                        .method("crown")
                        .attack(false)
                        .milp(25, 5_000, 1)
                        .set(JobConfig.EXACT_METHOD, "milp")
                        .eps(eps)
                        .boundParallelism(2)
                        .resultIntervalMs(100)
                        .build(),
                true);
        env.execute("robustflow-onnx-it");

        // Step 3: the final results, verdicts and counterexamples.
        Sweep.Report offline =
                Sweep.run(new CrownCertifier(net), null, images, eps, 1, 64, k -> {});
        Map<String, EpsilonAccuracy> finals = new HashMap<>();
        for (EpsilonAccuracy a : readAll(topics.results(), AvroCodec.of(EpsilonAccuracy.class))) {
            if (a.getComplete()) {
                finals.put(EpsilonGrid.key(a.getEps()), a);
            }
        }
        assertThat(finals).hasSize(eps.length);
        for (int e = 0; e < eps.length; e++) {
            EpsilonAccuracy a = finals.get(EpsilonGrid.key(eps[e]));
            assertThat(a.getModelVersion()).isEqualTo(net.version());
            assertThat(a.getSeen()).isEqualTo(IMAGES);
            assertThat(a.getMisclassified()).isEqualTo(offline.count(e, Verdict.MISCLASSIFIED));
            // The exact stage only adds decisions to what the bounds prove.
            assertThat(a.getCertified()).isGreaterThanOrEqualTo(offline.certified(e));
        }
        List<VerdictRecord> verdicts =
                readAll(topics.verdicts(), AvroCodec.of(VerdictRecord.class));
        assertThat(verdicts).hasSize(IMAGES * eps.length);
        assertThat(verdicts)
                .as("decided by the MILP stage on the normalised network")
                .anyMatch(
                        v ->
                                v.getMethod().contains("milp")
                                        && (v.getVerdict().name().equals("CERTIFIED")
                                                || v.getVerdict().name().equals("FALSIFIED")));
        for (Counterexample c :
                readAll(topics.counterexamples(), AvroCodec.of(Counterexample.class))) {
            double[] x = images.pixels((int) c.getImageId());
            double[] witness = c.getWitness().stream().mapToDouble(Double::doubleValue).toArray();
            assertThat(c.getModelVersion()).isEqualTo(net.version());
            assertThat(
                            Witnesses.isCounterexample(
                                    net,
                                    Box.around(x, c.getEps()),
                                    OutputSpec.robustness(10, images.label((int) c.getImageId())),
                                    witness))
                    .as("counterexample for image %d at eps %s", c.getImageId(), c.getEps())
                    .isTrue();
        }
    }

    private static <R extends org.apache.avro.specific.SpecificRecordBase> List<R> readAll(
            String topic, AvroCodec<R> codec) throws Exception {
        List<R> out = new ArrayList<>();
        for (byte[] value :
                KafkaClients.readCommitted(
                        Topics.defaults(kafka.bootstrapServers()), topic, Duration.ofSeconds(5))) {
            out.add(codec.decode(value));
        }
        return out;
    }
}
