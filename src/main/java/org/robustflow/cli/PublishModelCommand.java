package org.robustflow.cli;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.pipeline.kafka.KafkaClients;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code publish-model}: puts a model on the (compacted) models topic; the job applies it to later
 * images.
 */
@Command(
        name = "publish-model",
        mixinStandardHelpOptions = true,
        description = "Publish a model to the models topic.")
public final class PublishModelCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;

    @Option(
            names = "--model",
            description = "Model file, or a named model: default, robust (default: default).")
    Path model;

    @Override
    public Integer call() throws Exception {
        ModelSnapshot snapshot = Workspace.loadSnapshot(model, System.err);
        kafka.topics().createIfAbsent();
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(kafka.topics())) {
            KafkaClients.publishModel(producer, kafka.topics().models(), snapshot);
        }
        System.out.println(
                "published model " + snapshot.getVersion() + " to " + kafka.topics().models());
        return 0;
    }
}
