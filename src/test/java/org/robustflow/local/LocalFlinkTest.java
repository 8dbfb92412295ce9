package org.robustflow.local;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.CoreOptions;
import org.apache.flink.configuration.TaskManagerOptions;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded MiniCluster's settings that {@code run} and {@code job} depend on (each was a hang
 * seen with an imported network).
 */
class LocalFlinkTest {
    @Test
    void shouldGiveTheMilpOperatorSlotsAndCheckpointToFiles() {
        Configuration conf = LocalFlink.configuration(0, 1, 2, Path.of("target", "flink-tmp"));
        // run --parallelism 1 with the MILP operator at 2 waited for a second slot forever.
        assertThat(conf.get(TaskManagerOptions.NUM_TASK_SLOTS)).isEqualTo(2);
        assertThat(conf.get(CoreOptions.DEFAULT_PARALLELISM)).isEqualTo(1);
        // The JobManager's memory takes 5 MB per state; a 2-4 MB model in broadcast state, or a
        // few properties carrying theirs, failed every checkpoint there.
        assertThat(conf.get(CheckpointingOptions.CHECKPOINT_STORAGE)).isEqualTo("filesystem");
        assertThat(conf.get(CheckpointingOptions.CHECKPOINTS_DIRECTORY))
                .startsWith("file:")
                .endsWith("flink-tmp/checkpoints");
    }
}
