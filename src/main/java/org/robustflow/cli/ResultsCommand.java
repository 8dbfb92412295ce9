package org.robustflow.cli;

import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.pipeline.kafka.ResultsFollower;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

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
            description = "Only this model version's rows (default: every version the run used).")
    String modelVersion;

    @Option(
            names = "--once",
            description =
                    "Wait until the run is complete (every image verdicted or rejected), print the final table and exit.")
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
        List<Long> reportedMissing = List.of();
        try (ResultsFollower follower = new ResultsFollower(kafka.topics(), runId, modelVersion)) {
            while (true) {
                if (follower.poll(Duration.ofMillis(500))) {
                    table.draw(follower.latest(), false);
                }
                if (once && follower.complete()) {
                    if (follower.latest().isEmpty()) {
                        // Every image of the run was rejected: no accuracy to tabulate.
                        System.out.println(ResultsTable.progress(follower.status()));
                        return 0;
                    }
                    table.draw(follower.latest(), true);
                    if (json != null) {
                        ResultsTable.writeJson(follower.latest(), json);
                    }
                    if (csv != null) {
                        ResultsTable.writeCsv(follower.latest(), csv);
                    }
                    return 0;
                }
                List<Long> missing = follower.missingImages();
                if (!missing.equals(reportedMissing) && !missing.isEmpty()) {
                    reportedMissing = missing;
                    System.err.println(waitingFor(follower));
                }
                if (once && System.currentTimeMillis() > deadline) {
                    System.err.println(
                            "error: the run did not complete within "
                                    + timeoutSeconds
                                    + " s; "
                                    + waitingFor(follower));
                    return 1;
                }
            }
        }
    }

    /** What the run still waits for, as the job last reported it. */
    public static String waitingFor(ResultsFollower follower) {
        EpsilonAccuracy s = follower.status();
        if (s == null) {
            return "no result of the run yet: is the job running, and were the run's images"
                    + " produced?";
        }
        List<Long> missing = follower.missingImages();
        return ResultsTable.progress(s)
                + (missing.isEmpty()
                        ? ""
                        : "; no verdict or rejection yet for image"
                                + (missing.size() == 1 ? " " : "s ")
                                + missing.stream()
                                        .map(String::valueOf)
                                        .collect(Collectors.joining(", "))
                                + (s.getExpectedTotal() - s.getImagesDone() > missing.size()
                                        ? ", ..."
                                        : ""));
    }
}
