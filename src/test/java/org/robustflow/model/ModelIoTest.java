package org.robustflow.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.data.MnistDataset;
import org.robustflow.testutils.Fixtures;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ModelIoTest {
    @TempDir Path dir;

    @Test
    void shouldRoundTripTheAvroModelFile() throws IOException {
        Network mlp = Fixtures.randomMlp(5, 784, 20, 10);
        TrainingSettings training =
                TrainingSettings.newBuilder()
                        .setSeed(5)
                        .setEpochs(1)
                        .setBatchSize(10)
                        .setLearningRate(0.1)
                        .build();
        Path file = dir.resolve("m.avro");
        ModelIo.write(ModelIo.toSnapshot(mlp, training, 0.5, "test"), file);
        ModelSnapshot read = ModelIo.read(file);
        assertThat(read.getVersion()).isEqualTo(mlp.version());
        assertThat(read.getTestAccuracy()).isEqualTo(0.5);
        assertThat(read.getTraining().getSeed()).isEqualTo(5);
        assertThat(ModelIo.toMlp(read).version()).isEqualTo(mlp.version());
    }

    @Test
    void shouldReproduceLogitsOnTheTestSetAfterJsonExportAndImport() throws IOException {
        Network mlp = Fixtures.defaultModel();
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        ModelIo.writeJson(mlp, json);
        Network imported = ModelIo.readJson(new ByteArrayInputStream(json.toByteArray()));
        assertThat(imported.version()).isEqualTo(mlp.version());
        MnistDataset test = Fixtures.mnistTest();
        double worst = 0;
        for (int i = 0; i < test.size(); i++) {
            double[] x = test.pixels(i);
            double[] a = mlp.logits(x);
            double[] b = imported.logits(x);
            for (int k = 0; k < a.length; k++) {
                worst = Math.max(worst, Math.abs(a[k] - b[k]));
            }
        }
        assertThat(worst).isLessThanOrEqualTo(1e-12);
    }

    @Test
    void shouldReadTheDocumentedJsonLayout() throws IOException {
        String json =
                """
                {"format":"mlp-json/1","inputSize":2,"layers":[
                  {"in":2,"out":2,"weight":[[1,-1],[2,0]],"bias":[0,-1],"activation":"relu"},
                  {"in":2,"out":1,"weight":[[1,1]],"bias":[0.5],"activation":"none"}]}""";
        Network mlp =
                ModelIo.readJson(new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(mlp.logits(new double[] {1, 0})[0]).isCloseTo(2.5, within(0.0));
    }

    @Test
    void shouldNameTheFaultyFieldInBadJson() {
        String json =
                """
                {"format":"mlp-json/1","inputSize":2,"layers":[
                  {"in":2,"out":1,"weight":[[1]],"bias":[0],"activation":"none"}]}""";
        assertThatThrownBy(
                        () ->
                                ModelIo.readJson(
                                        new ByteArrayInputStream(
                                                json.getBytes(StandardCharsets.UTF_8))))
                .hasMessageContaining("layers[0].weight[0] must be an array of 2 numbers");
        String wrongActivation = json.replace("[[1]]", "[[1,2]]").replace("\"none\"", "\"relu\"");
        assertThatThrownBy(
                        () ->
                                ModelIo.readJson(
                                        new ByteArrayInputStream(
                                                wrongActivation.getBytes(StandardCharsets.UTF_8))))
                .hasMessageContaining("activation");
    }

    @Test
    void shouldRejectAFileThatIsNotAModel() throws IOException {
        Path file = dir.resolve("junk.avro");
        Files.writeString(file, "hello");
        assertThatThrownBy(() -> ModelIo.read(file))
                .hasMessageContaining("not a robustflow model file");
    }
}
