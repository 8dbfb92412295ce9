package org.robustflow.cli;

import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.DatasetLoader;
import org.robustflow.model.ModelIo;
import org.robustflow.pipeline.kafka.KafkaClients;
import org.robustflow.pipeline.kafka.ResultsFollower;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

/**
 * {@code report}: the chart, table and counterexample gallery of a run, from the results, models
 * and counterexamples topics.
 */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description =
                "Write a run's report (PNG + SVG chart, self-contained HTML with counterexamples) from Kafka.")
public final class ReportCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--run", required = true, description = "Run id.")
    String runId;

    @Option(names = "--out", description = "Output directory (default: results/<run>-report).")
    Path out;

    @Option(
            names = "--data-dir",
            description =
                    "The IDX set the run streamed, for the original images (default: the shipped MNIST).")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        Map<String, EpsilonAccuracy> rows = new TreeMap<>();
        try (ResultsFollower follower = new ResultsFollower(kafka.topics(), runId, null)) {
            long idleSince = System.currentTimeMillis();
            while (System.currentTimeMillis() - idleSince < 3_000) {
                if (follower.poll(Duration.ofMillis(300))) {
                    idleSince = System.currentTimeMillis();
                }
            }
            rows.putAll(follower.latest());
        }
        if (rows.isEmpty()) {
            System.err.println(
                    "error: no results for run " + runId + " on " + kafka.topics().results());
            return 1;
        }
        String version = rows.values().iterator().next().getModelVersion();
        AvroCodec<ModelSnapshot> codec = ModelIo.codec();
        ModelSnapshot model = null;
        for (byte[] value :
                KafkaClients.readCommitted(
                        kafka.topics(), kafka.topics().models(), Duration.ofSeconds(3))) {
            try {
                ModelSnapshot s = codec.decode(value);
                if (s.getVersion().equals(version)) {
                    model = s;
                }
            } catch (java.io.IOException e) {
                // a bad message on the models topic is the job's dead letter, not the report's
                // problem
            }
        }
        if (model == null) {
            System.err.println("error: model " + version + " is not on " + kafka.topics().models());
            return 1;
        }
        Path dir =
                out == null ? Workspace.home().resolve("results").resolve(runId + "-report") : out;
        Path html =
                Reports.write(
                        dir,
                        kafka.topics(),
                        runId,
                        rows,
                        model,
                        Workspace.load(dataDir, DatasetLoader.Split.TEST));
        System.out.println("report: " + html);
        return 0;
    }
}
