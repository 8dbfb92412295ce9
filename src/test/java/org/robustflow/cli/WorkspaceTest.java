package org.robustflow.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Named models: "robust" and "default" resolve to their cached files wherever a model is taken. */
class WorkspaceTest {
    @TempDir Path home;

    @AfterEach
    void restoreHome() {
        System.clearProperty("robustflow.home");
    }

    @Test
    void shouldResolveNamedModelsToTheirCachedFiles() throws IOException {
        System.setProperty("robustflow.home", home.toString());
        Network robust = Fixtures.randomMlp(1, 784, 8, 10);
        Network natural = Fixtures.randomMlp(2, 784, 8, 10);
        ModelIo.write(
                ModelIo.toSnapshot(robust, null, null, "test"),
                Workspace.namedModelPath(Workspace.ROBUST_MODEL));
        ModelIo.write(
                ModelIo.toSnapshot(natural, null, null, "test"), Workspace.defaultModelPath());
        assertThat(Workspace.namedModelPath("robust"))
                .isEqualTo(home.resolve(".cache/models/robust.avro"));

        ByteArrayOutputStream log = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(log, true, StandardCharsets.UTF_8);
        assertThat(Workspace.loadModel(Path.of("robust"), out).version())
                .isEqualTo(robust.version());
        assertThat(Workspace.loadSnapshot(Path.of("default"), out).getVersion())
                .isEqualTo(natural.version());
        assertThat(Workspace.loadSnapshot(null, out).getVersion()).isEqualTo(natural.version());
        // Cached: nothing was trained.
        assertThat(log.toString(StandardCharsets.UTF_8)).isEmpty();

        // A file of that name in the working directory is a file, not the named model.
        assertThat(Workspace.modelName(Path.of("robust"))).isEqualTo("robust");
        assertThat(Workspace.modelName(Path.of("other"))).isNull();
        Path file = Files.createTempFile(home, "model", ".avro");
        ModelSnapshot s = ModelIo.toSnapshot(natural, null, null, "file");
        ModelIo.write(s, file);
        assertThat(Workspace.modelName(file)).isNull();
        assertThat(Workspace.loadSnapshot(file, out).getSource()).isEqualTo("file");
    }
}
