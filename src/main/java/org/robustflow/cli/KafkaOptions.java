package org.robustflow.cli;

import org.robustflow.pipeline.kafka.Topics;
import picocli.CommandLine.Option;

/** Where Kafka is and what the topics are called; shared by the streaming commands. */
final class KafkaOptions {
    @Option(names = "--bootstrap-servers", defaultValue = "127.0.0.1:9092",
            description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(names = "--topic-suffix", defaultValue = "", description = "Suffix for every topic name, to run side by side.")
    String topicSuffix;

    Topics topics() {
        return Topics.defaults(bootstrapServers).withSuffix(topicSuffix);
    }
}
