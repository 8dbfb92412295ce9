package org.robustflow.cli;

import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.robustflow.local.LocalFlink;
import org.robustflow.pipeline.kafka.KafkaVerificationJob;
import org.robustflow.pipeline.kafka.PropertyJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code job}: runs the verification job against a Kafka cluster, embedded (a MiniCluster with its
 * dashboard in this JVM) or submitted to a Flink cluster by its REST address. On a cluster the job
 * runs at the cluster's default parallelism unless {@code --parallelism} says otherwise.
 */
@Command(
        name = "job",
        mixinStandardHelpOptions = true,
        defaultValueProvider = JobOptions.Defaults.class,
        description =
                "Run the streaming verification job: embedded, or on a Flink cluster (--remote HOST:PORT --jar JOB_JAR).")
public final class JobCommand implements Callable<Integer> {
    @Mixin KafkaOptions kafka;
    @Mixin JobOptions job;

    @Option(
            names = "--remote",
            description =
                    "Flink REST address host:port of a running cluster; embedded when absent.")
    String remote;

    @Option(names = "--jar", description = "With --remote: the job jar to ship to the cluster.")
    Path jar;

    @Option(
            names = "--dashboard-port",
            defaultValue = "8081",
            description = "Embedded dashboard port (default: ${DEFAULT-VALUE}).")
    int dashboardPort;

    @Override
    public Integer call() throws Exception {
        kafka.topics().createIfAbsent();
        PropertyJob.createTopics(kafka.topics());
        StreamExecutionEnvironment env;
        if (remote != null) {
            String[] hostPort = remote.split(":");
            if (hostPort.length != 2 || jar == null) {
                System.err.println("error: --remote takes HOST:PORT and needs --jar");
                return 2;
            }
            env =
                    StreamExecutionEnvironment.createRemoteEnvironment(
                            hostPort[0], Integer.parseInt(hostPort[1]), jar.toString());
            // Without --parallelism the cluster's parallelism.default applies, not this machine's
            // core count.
            if (job.parallelism != null) {
                env.setParallelism(job.parallelism);
            }
        } else {
            env =
                    LocalFlink.environment(
                            dashboardPort,
                            job.localParallelism(),
                            job.config().milpParallelism(),
                            Workspace.home().resolve(".cache/flink-tmp"));
            System.out.println("dashboard: http://127.0.0.1:" + dashboardPort);
        }
        KafkaVerificationJob.define(env, kafka.topics(), job.config(), false);
        PropertyJob.define(env, kafka.topics(), job.config(), false);
        if (remote != null) {
            // Detached: the job lives on the cluster; this command only submits it.
            var client = env.executeAsync(KafkaVerificationJob.JOB_NAME);
            System.out.println("submitted job " + client.getJobID() + " to http://" + remote);
            return 0;
        }
        env.execute(KafkaVerificationJob.JOB_NAME);
        return 0;
    }
}
