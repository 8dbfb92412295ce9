package org.robustflow.cli;

import org.robustflow.pipeline.kafka.Topics;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/** Where Kafka is and what the topics are called; shared by the streaming commands. */
final class KafkaOptions {
    @Option(
            names = "--bootstrap-servers",
            defaultValue = "127.0.0.1:9092",
            description = "Kafka bootstrap servers (default: ${DEFAULT-VALUE}).")
    String bootstrapServers;

    @Option(
            names = "--topic-suffix",
            defaultValue = "",
            description = "Suffix for every topic name, to run side by side.")
    String topicSuffix;

    @Option(
            names = "--kafka-property",
            paramLabel = "KEY=VALUE",
            description =
                    "Extra Kafka client setting for every client and the job, e.g. security.protocol=SASL_SSL (repeatable).")
    Map<String, String> kafkaProperties = new LinkedHashMap<>();

    @Option(
            names = "--kafka-config",
            paramLabel = "FILE",
            description =
                    "A properties file of Kafka client settings (SASL/TLS ...); --kafka-property wins over it.")
    Path kafkaConfig;

    Topics topics() throws IOException {
        Map<String, String> overrides = new LinkedHashMap<>();
        if (kafkaConfig != null) {
            Properties file = new Properties();
            try (Reader r = Files.newBufferedReader(kafkaConfig)) {
                file.load(r);
            }
            file.stringPropertyNames().forEach(k -> overrides.put(k, file.getProperty(k)));
        }
        overrides.putAll(kafkaProperties);
        return Topics.defaults(bootstrapServers)
                .withSuffix(topicSuffix)
                .withClientOverrides(overrides);
    }
}
