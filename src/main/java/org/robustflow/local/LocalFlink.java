package org.robustflow.local;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.nio.file.Path;

/**
 * An embedded Flink cluster (MiniCluster) with its web dashboard, for running the job in this JVM.
 *
 * <p>The dashboard listens on 127.0.0.1 only. The cluster lives as long as the job submitted to it.
 */
public final class LocalFlink {
    private LocalFlink() {}

    /**
     * The MiniCluster settings: dashboard port (0 for any free one), default parallelism, slots (at
     * least the largest parallelism of any operator, or the job waits for slots forever), temp
     * dirs.
     */
    public static Configuration configuration(
            int dashboardPort, int parallelism, int slots, Path tmpDir) {
        Configuration conf = new Configuration();
        conf.set(RestOptions.BIND_ADDRESS, "127.0.0.1");
        conf.set(RestOptions.ADDRESS, "127.0.0.1");
        conf.set(RestOptions.PORT, dashboardPort);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, Math.max(parallelism, slots));
        conf.set(CoreOptions.DEFAULT_PARALLELISM, parallelism);
        conf.set(CoreOptions.TMP_DIRS, tmpDir.toAbsolutePath().toString());
        // Checkpoints to files, not the JobManager's memory, whose 5 MB limit per state a model
        // of an imported network (2-4 MB each, in broadcast state) or a few properties waiting
        // with theirs exceed; the cluster's config.yaml does the same.
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                tmpDir.toAbsolutePath().resolve("checkpoints").toUri().toString());
        return conf;
    }

    /** An environment whose jobs run on a new MiniCluster with the dashboard. */
    public static StreamExecutionEnvironment environment(
            int dashboardPort, int parallelism, int slots, Path tmpDir) {
        StreamExecutionEnvironment env =
                StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(
                        configuration(dashboardPort, parallelism, slots, tmpDir));
        env.setParallelism(parallelism);
        return env;
    }
}
