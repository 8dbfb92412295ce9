package org.robustflow.cli;

import org.robustflow.pipeline.kafka.ResultsFollower;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code results}: follows the results topic and redraws the live robust-accuracy table. */
@Command(
        name = "results",
        mixinStandardHelpOptions = true,
        description = "Follow the results topic: a live table of robust accuracy per eps.")
public final class ResultsCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(names = "--run", description = "Run id (default: the first run on the topic).")
    String runId;

    @Option(
            names = "--model-version",
            description = "Model version (default: the first seen for the run).")
    String modelVersion;

    @Option(
            names = "--eps-count",
            defaultValue = "10",
            description = "Eps values the run has (default: ${DEFAULT-VALUE}).")
    int epsCount;

    @Option(
            names = "--once",
            description = "Wait until the run is complete, print the final table and exit.")
    boolean once;

    @Option(
            names = "--timeout",
            defaultValue = "3600",
            description =
                    "With --once, give up after this many seconds (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds;

    @Option(names = "--json", description = "With --once, write the final table as JSON here.")
    Path json;

    @Option(names = "--csv", description = "With --once, write the final table as CSV here.")
    Path csv;

    @Override
    public Integer call() throws Exception {
        ResultsTable table = new ResultsTable(System.out);
        long deadline = System.currentTimeMillis() + timeoutSeconds * 1000;
        try (ResultsFollower follower = new ResultsFollower(kafka.topics(), runId, modelVersion)) {
            while (true) {
                if (follower.poll(Duration.ofMillis(500))) {
                    table.draw(follower.latest(), false);
                }
                if (once && follower.complete(epsCount)) {
                    table.draw(follower.latest(), true);
                    if (json != null) {
                        ResultsTable.writeJson(follower.latest(), json);
                    }
                    if (csv != null) {
                        ResultsTable.writeCsv(follower.latest(), csv);
                    }
                    return 0;
                }
                if (once && System.currentTimeMillis() > deadline) {
                    System.err.println(
                            "error: the run did not complete within " + timeoutSeconds + " s");
                    return 1;
                }
            }
        }
    }
}
