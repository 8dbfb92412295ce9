package org.robustflow.pipeline.kafka;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.robustflow.avro.PropertyResult;
import org.robustflow.cli.Main;
import org.robustflow.data.AvroCodec;
import org.robustflow.local.EmbeddedKafka;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.JobConfig;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A VNN-LIB suite through the job on a real broker and a MiniCluster: {@code suite publish} puts a
 * benchmark folder (instances.csv, a network, an unsat, a sat and a malformed property) on the
 * topics, the property pipeline answers each once, {@code suite results} prints the VNN-COMP lines;
 * the sat counterexample lies in the box and violates the property under our forward pass.
 */
class PropertySuiteITCase {
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
    void shouldAnswerEveryPropertyOfASuiteOnce() throws Exception {
        // y0 = x0 + x1, y1 = x0 - x1 on [0,1]^2: y0 <= -1 is impossible, y0 >= 1.5 is not.
        Network net =
                Network.mlp(
                        List.of(
                                new DenseLayer(
                                        new double[][] {{1, 1}, {1, -1}}, new double[] {0, 0})));
        Path dir = Files.createTempDirectory(Path.of("target"), "suite-");
        try (OutputStream out = Files.newOutputStream(dir.resolve("net.json"))) {
            ModelIo.writeJson(net, out);
        }
        String box =
                """
                (declare-const X_0 Real)
                (declare-const X_1 Real)
                (declare-const Y_0 Real)
                (declare-const Y_1 Real)
                (assert (>= X_0 0.0))
                (assert (<= X_0 1.0))
                (assert (>= X_1 0.0))
                (assert (<= X_1 1.0))
                """;
        Files.writeString(dir.resolve("unsat.vnnlib"), box + "(assert (<= Y_0 -1.0))\n");
        Files.writeString(dir.resolve("sat.vnnlib"), box + "(assert (>= Y_0 1.5))\n");
        Files.writeString(dir.resolve("bad.vnnlib"), box + "(assert (<= Y_7 (+ 1.0\n");
        Files.writeString(
                dir.resolve("instances.csv"),
                "net.json,unsat.vnnlib,20\nnet.json,sat.vnnlib,20\nnet.json,bad.vnnlib,20\n");
        String suffix = "." + UUID.randomUUID();
        Topics topics = Topics.defaults(kafka.bootstrapServers()).withSuffix(suffix);
        String[] kafkaArgs = {
            "--bootstrap-servers", kafka.bootstrapServers(), "--topic-suffix", suffix
        };

        // Step 1: publish the suite.
        ByteArrayOutputStream published = new ByteArrayOutputStream();
        int exit =
                withStdout(
                        published,
                        () ->
                                Main.commandLine()
                                        .execute(
                                                concat(
                                                        new String[] {
                                                            "suite",
                                                            "publish",
                                                            dir.toString(),
                                                            "--suite-id",
                                                            "s1"
                                                        },
                                                        kafkaArgs)));
        assertThat(exit).isZero();
        assertThat(published.toString(StandardCharsets.UTF_8).trim()).isEqualTo("s1");

        // Step 2: run the property pipeline over what is in the topics.
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(KafkaVerificationJob.CHECKPOINT_INTERVAL_MS);
        PropertyJob.define(env, topics, JobConfig.builder().build(), true);
        env.execute("robustflow-properties-it");

        // Step 3: the answers, through the CLI and from the topic.
        ByteArrayOutputStream printed = new ByteArrayOutputStream();
        int read =
                withStdout(
                        printed,
                        () ->
                                Main.commandLine()
                                        .execute(
                                                concat(
                                                        new String[] {
                                                            "suite",
                                                            "results",
                                                            "--suite",
                                                            "s1",
                                                            "--timeout",
                                                            "30"
                                                        },
                                                        kafkaArgs)));
        assertThat(read).isZero();
        assertThat(
                        printed.toString(StandardCharsets.UTF_8)
                                .lines()
                                .map(l -> l.replaceAll(",[0-9.]+$", "")))
                .containsExactly(
                        "net.json,bad.vnnlib,error",
                        "net.json,sat.vnnlib,sat",
                        "net.json,unsat.vnnlib,unsat");
        Map<String, PropertyResult> byId = new HashMap<>();
        int messages = 0;
        for (byte[] value :
                KafkaClients.readCommitted(
                        topics, PropertyJob.results(topics), Duration.ofSeconds(3))) {
            PropertyResult r = AvroCodec.of(PropertyResult.class).decode(value);
            byId.put(r.getPropertyId(), r);
            messages++;
        }
        assertThat(messages).as("one answer per property").isEqualTo(3);
        PropertyResult sat = byId.get("net.json,sat.vnnlib");
        assertThat(sat.getModelVersion()).isEqualTo(net.version());
        double[] x = sat.getCounterexample().stream().mapToDouble(Double::doubleValue).toArray();
        assertThat(x).hasSize(2);
        assertThat(x[0]).isBetween(0.0, 1.0);
        assertThat(x[1]).isBetween(0.0, 1.0);
        assertThat(net.logits(x)[0]).isGreaterThanOrEqualTo(1.5);
        assertThat(byId.get("net.json,bad.vnnlib").getMethod()).contains("bad.vnnlib");
    }

    private static int withStdout(ByteArrayOutputStream sink, java.util.function.IntSupplier run) {
        PrintStream old = System.out;
        System.setOut(new PrintStream(sink, true, StandardCharsets.UTF_8));
        try {
            return run.getAsInt();
        } finally {
            System.setOut(old);
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
