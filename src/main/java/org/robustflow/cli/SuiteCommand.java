package org.robustflow.cli;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.robustflow.avro.PropertyQuery;
import org.robustflow.avro.PropertyResult;
import org.robustflow.data.AvroCodec;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.kafka.KafkaClients;
import org.robustflow.pipeline.kafka.PropertyJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.zip.GZIPInputStream;

/**
 * {@code suite publish|results}: a VNN-COMP benchmark folder through the streaming job, the way
 * {@code produce} and {@code results} stream a data set.
 *
 * <pre>{@code
 * ./robustflow suite publish ../shared/bench/vnncomp2022-mnist_fc --timeout-scale 0.25   # prints the suite id
 * ./robustflow suite results --suite SUITE --out results.csv
 * }</pre>
 */
@Command(
        name = "suite",
        mixinStandardHelpOptions = true,
        description =
                "Stream a VNN-COMP benchmark (networks + VNN-LIB properties) through the job.",
        subcommands = {SuiteCommand.Publish.class, SuiteCommand.Results.class})
public final class SuiteCommand {

    /** Publishes the networks to the models topic and every instance to the properties topic. */
    @Command(
            name = "publish",
            mixinStandardHelpOptions = true,
            description =
                    "Publish a benchmark folder (instances.csv): its networks to the models topic,"
                            + " its instances to the properties topic.")
    static final class Publish implements Callable<Integer> {
        @Mixin KafkaOptions kafka;

        @Parameters(index = "0", description = "Benchmark folder with instances.csv.")
        Path dir;

        @Option(names = "--suite-id", description = "Suite id (default: a new one).")
        String suiteId;

        @Option(
                names = "--timeout-scale",
                defaultValue = "1",
                description = "Factor on every instance's time limit (default: 1).")
        double timeoutScale;

        @Option(names = "--limit", description = "Only the first N instances.")
        Integer limit;

        @Override
        public Integer call() throws Exception {
            List<VnncompCommand.Instance> instances = VnncompCommand.instances(dir);
            if (limit != null) {
                instances = instances.subList(0, Math.min(limit, instances.size()));
            }
            String suite = suiteId != null ? suiteId : "suite-" + UUID.randomUUID();
            kafka.topics().createIfAbsent();
            PropertyJob.createTopics(kafka.topics());
            AvroCodec<PropertyQuery> codec = AvroCodec.of(PropertyQuery.class);
            Map<Path, String> versions = new HashMap<>();
            try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(kafka.topics())) {
                for (VnncompCommand.Instance instance : instances) {
                    String version = versions.get(instance.network());
                    if (version == null) {
                        Network net = Models.read(Models.existing(instance.network()));
                        KafkaClients.publishModel(
                                producer,
                                kafka.topics().models(),
                                ModelIo.toSnapshot(
                                        net,
                                        null,
                                        null,
                                        "suite " + VnncompCommand.baseName(instance.network())));
                        version = net.version();
                        versions.put(instance.network(), version);
                    }
                    String id = propertyId(instance);
                    PropertyQuery query =
                            PropertyQuery.newBuilder()
                                    .setSuiteId(suite)
                                    .setPropertyId(id)
                                    .setModelVersion(version)
                                    .setVnnlib(text(Models.existing(instance.property())))
                                    .setTimeoutMs(
                                            Math.max(
                                                    1,
                                                    Math.round(
                                                            instance.timeout()
                                                                    * timeoutScale
                                                                    * 1000)))
                                    .setExpectedTotal(instances.size())
                                    .build();
                    producer.send(
                                    new ProducerRecord<>(
                                            PropertyJob.properties(kafka.topics()),
                                            (suite + "/" + id).getBytes(StandardCharsets.UTF_8),
                                            codec.encode(query)))
                            .get();
                }
            }
            System.err.printf(
                    Locale.ROOT,
                    "published %d properties on %d networks to %s%n",
                    instances.size(),
                    versions.size(),
                    PropertyJob.properties(kafka.topics()));
            System.out.println(suite);
            return 0;
        }
    }

    /** Reads a suite's answers from the property results topic. */
    @Command(
            name = "results",
            mixinStandardHelpOptions = true,
            description =
                    "Read a suite's answers (network,property,result,seconds) from the property"
                            + " results topic; waits until all are in.")
    static final class Results implements Callable<Integer> {
        @Mixin KafkaOptions kafka;

        @Option(names = "--suite", required = true, description = "Suite id.")
        String suite;

        @Option(names = "--out", description = "Also write the CSV here.")
        Path out;

        @Option(
                names = "--timeout",
                defaultValue = "600",
                description = "Seconds to wait for every answer (default: 600).")
        double timeoutSeconds;

        @Override
        public Integer call() throws Exception {
            long deadline = System.nanoTime() + (long) (timeoutSeconds * 1e9);
            AvroCodec<PropertyResult> codec = AvroCodec.of(PropertyResult.class);
            Map<String, PropertyResult> answers = new TreeMap<>();
            int expected = -1;
            while (expected < 0 || answers.size() < expected) {
                for (byte[] value :
                        KafkaClients.readCommitted(
                                kafka.topics(),
                                PropertyJob.results(kafka.topics()),
                                Duration.ofSeconds(1))) {
                    PropertyResult r = codec.decode(value);
                    if (r.getSuiteId().equals(suite)) {
                        answers.put(r.getPropertyId(), r);
                        expected = Math.max(expected, r.getExpectedTotal());
                    }
                }
                if (System.nanoTime() > deadline) {
                    System.err.printf(
                            Locale.ROOT,
                            "suite %s: %d of %s answers after %.0f s%n",
                            suite,
                            answers.size(),
                            expected < 0 ? "?" : String.valueOf(expected),
                            timeoutSeconds);
                    break;
                }
            }
            print(answers, System.out);
            if (out != null) {
                try (PrintStream file =
                        new PrintStream(Files.newOutputStream(out), true, "UTF-8")) {
                    print(answers, file);
                }
            }
            Map<String, Integer> counts = new TreeMap<>();
            answers.values().forEach(r -> counts.merge(r.getAnswer(), 1, Integer::sum));
            System.err.println("suite " + suite + ": " + counts);
            return expected >= 0 && answers.size() >= expected ? 0 : 1;
        }

        private static void print(Map<String, PropertyResult> answers, PrintStream out) {
            for (PropertyResult r : answers.values()) {
                out.printf(
                        Locale.ROOT,
                        "%s,%s,%.3f%n",
                        r.getPropertyId(),
                        r.getAnswer(),
                        r.getSeconds());
            }
        }
    }

    /** network,property as VNN-COMP's result files name them: file names without .gz. */
    static String propertyId(VnncompCommand.Instance instance) {
        return VnncompCommand.baseName(instance.network())
                + ","
                + VnncompCommand.baseName(instance.property());
    }

    private static String text(Path file) throws java.io.IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
