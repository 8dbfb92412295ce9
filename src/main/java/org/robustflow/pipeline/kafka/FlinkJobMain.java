package org.robustflow.pipeline.kafka;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.ParameterTool;

import org.robustflow.pipeline.JobConfig;

import java.util.HashMap;
import java.util.Map;

/**
 * The job's entry point for Flink's own CLI, on a cluster that has the job's libraries in {@code
 * lib/}:
 *
 * <pre>{@code
 * flink run -c org.robustflow.pipeline.kafka.FlinkJobMain target/robustflow.jar \
 *     --bootstrap-servers broker:9092 [--topic-suffix .test] [--robustflow.milp.time-limit-ms 5000]
 * }</pre>
 *
 * <p>Job settings ({@link JobConfig}'s options) come from the Flink configuration ({@code
 * config.yaml}, {@code -D}), then from {@code --robustflow.*} arguments, which win. Kafka client
 * settings (SASL/TLS) are given as {@code --kafka.KEY VALUE}. Parallelism is Flink's: {@code -p} or
 * the cluster's {@code parallelism.default}.
 */
public final class FlinkJobMain {
    private FlinkJobMain() {}

    public static void main(String[] args) throws Exception {
        ParameterTool params = ParameterTool.fromArgs(args);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        Configuration conf = new Configuration();
        conf.addAll(Configuration.fromMap(env.getConfiguration().toMap()));
        Map<String, String> kafkaOverrides = new HashMap<>();
        for (Map.Entry<String, String> e : params.toMap().entrySet()) {
            if (e.getKey().startsWith("robustflow.")) {
                conf.setString(e.getKey(), e.getValue());
            } else if (e.getKey().startsWith("kafka.")) {
                kafkaOverrides.put(e.getKey().substring("kafka.".length()), e.getValue());
            }
        }
        JobConfig cfg = JobConfig.fromConfiguration(conf);
        Topics topics =
                Topics.defaults(params.get("bootstrap-servers", "127.0.0.1:9092"))
                        .withSuffix(params.get("topic-suffix", ""))
                        .withClientOverrides(kafkaOverrides);
        topics.createIfAbsent();
        PropertyJob.createTopics(topics);
        KafkaVerificationJob.define(env, topics, cfg, false);
        PropertyJob.define(env, topics, cfg, false);
        env.execute(KafkaVerificationJob.JOB_NAME);
    }
}
