package org.robustflow.cli;

import org.apache.flink.api.common.JobStatus;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import me.tongfei.progressbar.ProgressBar;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.local.EmbeddedKafka;
import org.robustflow.local.LocalFlink;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.pipeline.kafka.KafkaClients;
import org.robustflow.pipeline.kafka.KafkaVerificationJob;
import org.robustflow.pipeline.kafka.PropertyJob;
import org.robustflow.pipeline.kafka.ResultsFollower;
import org.robustflow.pipeline.kafka.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code run}: the whole product on one machine. A real Kafka broker in this JVM, a Flink
 * MiniCluster with its dashboard, the default model published, the MNIST test set streamed, the
 * live results table until the run is complete, the final table as JSON and CSV, then a clean
 * shutdown.
 *
 * <pre>{@code
 * ./robustflow run                      # 10,000 test images x 10 eps, dashboard on http://127.0.0.1:8081
 * ./robustflow run --limit 500 --keep-running
 * }</pre>
 */
@Command(
        name = "run",
        defaultValueProvider = JobOptions.Defaults.class,
        mixinStandardHelpOptions = true,
        description =
                "Run everything embedded: Kafka broker, Flink MiniCluster with dashboard, model, MNIST stream, live results.")
public final class RunCommand implements Callable<Integer> {
    @Mixin JobOptions job;

    @Option(
            names = "--model",
            description =
                    "Model file, or a named model: default, robust (each trained once if absent; default: default).")
    Path model;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST).")
    Path dataDir;

    @Option(names = "--limit", description = "Only the first N test images.")
    Integer limit;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description =
                    "Images per second, 0 for as fast as possible (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(
            names = "--dashboard-port",
            defaultValue = "8081",
            description = "Flink dashboard port (default: ${DEFAULT-VALUE}).")
    int dashboardPort;

    @Option(
            names = "--kafka-port",
            defaultValue = "0",
            description = "Kafka client port, 0 for a free one (default: ${DEFAULT-VALUE}).")
    int kafkaPort;

    @Option(names = "--out-dir", description = "Where the final tables go (default: results/).")
    Path outDir;

    @Option(
            names = "--keep-running",
            description = "Leave the broker, the job and the dashboard up until Ctrl-C.")
    boolean keepRunning;

    @Override
    public Integer call() throws Exception {
        String runId = ProduceCommand.newRunId();
        Path work = Workspace.home().resolve(".cache").resolve("runs").resolve(runId);
        MnistDataset test = Workspace.load(dataDir, DatasetLoader.Split.TEST);
        int count = limit == null ? test.size() : Math.min(limit, test.size());
        ModelSnapshot snapshot = Workspace.loadSnapshot(model, System.err);
        JobConfig cfg = job.config();

        long startKafka = System.nanoTime();
        try (EmbeddedKafka kafka = EmbeddedKafka.start(work.resolve("kafka"), kafkaPort)) {
            System.out.printf(
                    Locale.ROOT,
                    "Kafka broker at %s (started in %.1f s)%n",
                    kafka.bootstrapServers(),
                    (System.nanoTime() - startKafka) / 1e9);
            Topics topics = Topics.defaults(kafka.bootstrapServers());
            topics.createIfAbsent();
            PropertyJob.createTopics(topics);

            StreamExecutionEnvironment env =
                    LocalFlink.environment(
                            dashboardPort,
                            job.localParallelism(),
                            cfg.milpParallelism(),
                            work.resolve("flink-tmp"));
            KafkaVerificationJob.define(env, topics, cfg, false);
            PropertyJob.define(env, topics, cfg, false);
            JobClient client = env.executeAsync(KafkaVerificationJob.JOB_NAME);
            System.out.println(
                    "Flink dashboard at http://127.0.0.1:"
                            + dashboardPort
                            + " (job "
                            + client.getJobID()
                            + ")");

            long start = System.nanoTime();
            try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(topics)) {
                KafkaClients.publishModel(producer, topics.models(), snapshot);
                KafkaClients.announceRun(producer, topics.runs(), runId, count, test.name());
                try (ProgressBar bar = Progress.bar("produce", count, " img")) {
                    KafkaClients.produceImages(
                            producer, topics.images(), test, runId, count, rate, bar::stepBy);
                }
            }
            System.out.printf(
                    "run %s: model %s, %d images x %d eps, method %s%s, parallelism %d%n",
                    runId,
                    snapshot.getVersion(),
                    count,
                    cfg.eps().length,
                    cfg.method(),
                    cfg.attack() == null ? "" : " + pgd",
                    job.localParallelism());

            Map<String, EpsilonAccuracy> finalRows = follow(topics, runId, client);
            if (finalRows == null) {
                return 1;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            Path out = outDir == null ? Workspace.home().resolve("results") : outDir;
            Path json = out.resolve(runId + ".json");
            Path csv = out.resolve(runId + ".csv");
            ResultsTable.writeJson(finalRows, json);
            ResultsTable.writeCsv(finalRows, csv);
            System.out.printf(
                    Locale.ROOT,
                    "complete in %.1f s: %d verdicts, %.0f verdicts/s%n",
                    seconds,
                    (long) count * cfg.eps().length,
                    count * cfg.eps().length / seconds);
            System.out.println("results: " + json + " and " + csv);
            Path report =
                    Reports.write(
                            out.resolve(runId + "-report"),
                            topics,
                            runId,
                            finalRows,
                            snapshot,
                            test);
            System.out.println("report: " + report);

            if (keepRunning) {
                System.out.println(
                        "--keep-running: broker at "
                                + kafka.bootstrapServers()
                                + ", dashboard at http://127.0.0.1:"
                                + dashboardPort
                                + "; Ctrl-C to stop.");
                CountDownLatch stop = new CountDownLatch(1);
                Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
                stop.await();
            }
            client.cancel().get();
        }
        if (!keepRunning) {
            deleteRecursively(work); // the broker's data: the results are in the files above
        }
        return 0;
    }

    private static void deleteRecursively(Path dir) throws java.io.IOException {
        try (var paths = java.nio.file.Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        }
    }

    /** The final rows once the run is complete; null if the job failed first. */
    private static Map<String, EpsilonAccuracy> follow(
            Topics topics, String runId, JobClient client) throws Exception {
        ResultsTable table = new ResultsTable(System.out);
        try (ResultsFollower follower = new ResultsFollower(topics, runId, null)) {
            java.util.List<Long> reportedMissing = java.util.List.of();
            while (!follower.complete()) {
                if (follower.poll(Duration.ofMillis(500))) {
                    table.draw(follower.latest(), false);
                }
                if (!follower.missingImages().isEmpty()
                        && !follower.missingImages().equals(reportedMissing)) {
                    reportedMissing = follower.missingImages();
                    System.err.println(ResultsCommand.waitingFor(follower));
                }
                JobStatus status = client.getJobStatus().get();
                if (status.isGloballyTerminalState()) {
                    System.err.println(
                            "error: the job ended with status "
                                    + status
                                    + " before the run completed");
                    return null;
                }
            }
            table.draw(follower.latest(), true);
            return new java.util.TreeMap<>(follower.latest());
        }
    }
}
