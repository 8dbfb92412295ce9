package org.robustflow.cli;

import me.tongfei.progressbar.ProgressBar;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.pipeline.kafka.KafkaClients;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;

/**
 * {@code produce}: announces a run (id and image count, on the runs topic), then streams an IDX
 * data set into the images topic under the run id.
 */
@Command(
        name = "produce",
        mixinStandardHelpOptions = true,
        description = "Stream an IDX data set into the images topic.")
public final class ProduceCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST).")
    Path dataDir;

    @Option(
            names = "--split",
            defaultValue = "TEST",
            description = "TRAIN or TEST (default: ${DEFAULT-VALUE}).")
    DatasetLoader.Split split;

    @Option(names = "--run-id", description = "Run id (default: run-<timestamp>).")
    String runId;

    @Option(names = "--limit", description = "Only the first N images.")
    Integer limit;

    @Option(
            names = "--rate",
            defaultValue = "0",
            description =
                    "Images per second, 0 for as fast as possible (default: ${DEFAULT-VALUE}).")
    double rate;

    @Override
    public Integer call() throws Exception {
        MnistDataset data = Workspace.load(dataDir, split);
        int count = limit == null ? data.size() : Math.min(limit, data.size());
        String run = runId == null ? newRunId() : runId;
        kafka.topics().createIfAbsent();
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(kafka.topics());
                ProgressBar bar = Progress.bar("produce", count, " img")) {
            KafkaClients.announceRun(producer, kafka.topics().runs(), run, count, data.name());
            KafkaClients.produceImages(
                    producer, kafka.topics().images(), data, run, count, rate, bar::stepBy);
        }
        System.out.println(
                "run "
                        + run
                        + ": "
                        + count
                        + " images from "
                        + data.name()
                        + " to "
                        + kafka.topics().images());
        return 0;
    }

    static String newRunId() {
        return "run-" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
    }
}
