package org.robustflow.model;

import org.apache.avro.Schema;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.avro.ElementwiseAffineLayerRecord;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RobustTraining;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.onnx.OnnxImporter;
import org.robustflow.testutils.Bench;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.OnnxFixtures;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ModelIoTest {
    private static final String REFERENCE_VERSION = "sha256:b37234a10c2ad698";

    @TempDir Path dir;

    private static Network referenceMlp() throws IOException {
        try (InputStream in =
                ModelIoTest.class.getResourceAsStream("/reference/mlp-784-20-20-10.json")) {
            return ModelIo.readJson(in);
        }
    }

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
        assertThat(ModelIo.toNetwork(read).version()).isEqualTo(mlp.version());
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

    @ParameterizedTest
    @ValueSource(
            strings = {
                "mnist-net_256x2.onnx.gz",
                "mnist-net_256x4.onnx.gz",
                "mnist-net_256x6.onnx.gz",
                "normalised"
            })
    void shouldKeepImportedNetworksExactlyThroughModelFileAndJson(String name) throws IOException {
        Path bench = Bench.mnistFc();
        assumeTrue(bench != null, "shared/bench/vnncomp2022-mnist_fc not found above the cwd");
        Network net =
                name.equals("normalised")
                        ? OnnxImporter.parse(
                                OnnxFixtures.normalised(
                                                OnnxImporter.read(
                                                        bench.resolve(
                                                                "onnx/mnist-net_256x2.onnx.gz")))
                                        .toByteArray(),
                                "normalised.onnx")
                        : OnnxImporter.read(bench.resolve("onnx").resolve(name));
        assertThat(net.isMlp()).isEqualTo(!name.equals("normalised"));

        Path file = dir.resolve("net.avro");
        ModelIo.write(ModelIo.toSnapshot(net, null, null, name), file);
        ModelSnapshot snapshot = ModelIo.read(file);
        // An MLP stays in the layout every older reader knows; only other networks use graph.
        assertThat(snapshot.getGraph() == null).isEqualTo(net.isMlp());
        Network fromFile = ModelIo.toNetwork(snapshot);
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        ModelIo.writeJson(net, json);
        assertThat(json.toString(StandardCharsets.UTF_8))
                .startsWith(
                        "{\"format\":\""
                                + (net.isMlp() ? ModelIo.JSON_FORMAT : ModelIo.NET_JSON_FORMAT));
        Network fromJson = ModelIo.readJson(new ByteArrayInputStream(json.toByteArray()));

        for (Network back : List.of(fromFile, fromJson)) {
            assertThat(back.version()).isEqualTo(net.version());
            assertThat(back.architecture()).isEqualTo(net.architecture());
            assertThat(back.layers())
                    .<Class<? extends Layer>>extracting(Layer::getClass)
                    .containsExactlyElementsOf(
                            net.layers().stream()
                                    .<Class<? extends Layer>>map(Layer::getClass)
                                    .toList());
            MnistDataset test = Fixtures.mnistTest();
            for (int i = 0; i < 20; i++) {
                assertThat(back.logits(test.pixels(i))).containsExactly(net.logits(test.pixels(i)));
            }
        }
    }

    @Test
    void shouldLoadModelFilesAndMessagesWrittenBeforeGraphsExisted() throws IOException {
        Network mlp = ModelIo.toNetwork(ModelIo.toSnapshot(referenceMlp(), null, null, "old"));
        // The version this model has carried since the first model file (mlp-relu/1 hash).
        assertThat(mlp.version()).isEqualTo(REFERENCE_VERSION);
        Schema v1;
        try (InputStream in = ModelIo.class.getResourceAsStream("ModelSnapshot-v1.avsc")) {
            v1 = new Schema.Parser().parse(in);
        }
        assertThat(v1.getField("graph")).isNull();
        ModelSnapshot current = ModelIo.toSnapshot(mlp, null, 0.9, "old");

        // A model file written with the first schema.
        Path file = dir.resolve("old.avro");
        try (DataFileWriter<ModelSnapshot> writer =
                new DataFileWriter<>(new SpecificDatumWriter<ModelSnapshot>(v1))) {
            writer.create(v1, file.toFile());
            writer.append(current);
        }
        ModelSnapshot fromFile = ModelIo.read(file);
        assertThat(fromFile.getGraph()).isNull();
        assertThat(ModelIo.toNetwork(fromFile).version()).isEqualTo(REFERENCE_VERSION);

        // A models-topic message written with the first schema (the topic is read from its
        // start, so old messages stay).
        byte[] message =
                new BinaryMessageEncoder<ModelSnapshot>(SpecificData.get(), v1)
                        .encode(current)
                        .array();
        assertThat(ModelIo.toNetwork(ModelIo.codec().decode(message)).version())
                .isEqualTo(REFERENCE_VERSION);
        assertThatThrownBy(() -> AvroCodec.of(ModelSnapshot.class).decode(message))
                .isInstanceOf(IOException.class);
    }

    @Test
    void shouldKeepRobustTrainingSettingsAndLoadFilesWrittenBeforeThem() throws IOException {
        Network mlp = referenceMlp();
        TrainingSettings training =
                TrainingSettings.newBuilder()
                        .setSeed(42)
                        .setEpochs(20)
                        .setBatchSize(100)
                        .setLearningRate(1e-3)
                        .setDataset("mnist")
                        .setTrainSeconds(12.5)
                        .setRobust(
                                RobustTraining.newBuilder()
                                        .setMethod("crown-ibp")
                                        .setEps(0.1)
                                        .setTrainEps(0.11)
                                        .setWarmupEpochs(1)
                                        .setRampEpochs(8)
                                        .setKappaEnd(0.5)
                                        .setLrDecay(0.8)
                                        .build())
                        .build();
        ModelSnapshot snapshot = ModelIo.toSnapshot(mlp, training, 0.95, "trained crown-ibp");
        // The version names the weights only: training settings never change it.
        assertThat(snapshot.getVersion()).isEqualTo(REFERENCE_VERSION);
        Path file = dir.resolve("robust.avro");
        ModelIo.write(snapshot, file);
        ModelSnapshot back = ModelIo.read(file);
        assertThat(back.getTraining()).isEqualTo(training);
        assertThat(back.getTraining().getRobust().getMethod()).isEqualTo("crown-ibp");
        assertThat(back.getVersion()).isEqualTo(REFERENCE_VERSION);
        assertThat(ModelIo.toNetwork(ModelIo.codec().decode(ModelIo.codec().encode(snapshot))))
                .extracting(Network::version)
                .isEqualTo(REFERENCE_VERSION);

        // A file and a message written with the schema before robust training existed (v2).
        Schema v2;
        try (InputStream in = ModelIo.class.getResourceAsStream("ModelSnapshot-v2.avsc")) {
            v2 = new Schema.Parser().parse(in);
        }
        assertThat(v2.getField("graph")).isNotNull();
        assertThat(v2.toString()).doesNotContain("RobustTraining");
        Path old = dir.resolve("v2.avro");
        try (DataFileWriter<ModelSnapshot> writer =
                new DataFileWriter<>(new SpecificDatumWriter<ModelSnapshot>(v2))) {
            writer.create(v2, old.toFile());
            writer.append(snapshot);
        }
        ModelSnapshot fromOld = ModelIo.read(old);
        assertThat(fromOld.getTraining().getRobust()).isNull();
        assertThat(fromOld.getTraining().getEpochs()).isEqualTo(20);
        assertThat(fromOld.getVersion()).isEqualTo(REFERENCE_VERSION);
        byte[] message =
                new BinaryMessageEncoder<ModelSnapshot>(SpecificData.get(), v2)
                        .encode(snapshot)
                        .array();
        ModelSnapshot decoded = ModelIo.codec().decode(message);
        assertThat(decoded.getTraining().getRobust()).isNull();
        assertThat(ModelIo.toNetwork(decoded).version()).isEqualTo(REFERENCE_VERSION);
        assertThatThrownBy(() -> AvroCodec.of(ModelSnapshot.class).decode(message))
                .isInstanceOf(IOException.class);
    }

    @Test
    void shouldRefuseAmbiguousOrMalformedGraphs() {
        Network normalised =
                new Network(
                        List.of(
                                new ElementwiseAffineLayer(
                                        new double[] {2, 3}, new double[] {-1, 0}),
                                new DenseLayer(new double[][] {{1, 1}}, new double[] {0})));
        ModelSnapshot both = ModelIo.toSnapshot(normalised, null, null, "t");
        both.setLayers(
                ModelIo.toSnapshot(
                                Network.mlp(
                                        List.of(
                                                new DenseLayer(
                                                        new double[][] {{1, 1}},
                                                        new double[] {0}))),
                                null,
                                null,
                                "t")
                        .getLayers());
        assertThatThrownBy(() -> ModelIo.toNetwork(both))
                .hasMessageContaining("both layers and graph");
        ModelSnapshot shortShift = ModelIo.toSnapshot(normalised, null, null, "t");
        ((ElementwiseAffineLayerRecord) shortShift.getGraph().get(0)).setShift(List.of(0.0));
        shortShift.setVersion("");
        assertThatThrownBy(() -> ModelIo.toNetwork(shortShift))
                .hasMessageContaining("graph layer 0 holds 2 scales and 1 shifts");
    }

    @Test
    void shouldRejectAFileThatIsNotAModel() throws IOException {
        Path file = dir.resolve("junk.avro");
        Files.writeString(file, "hello");
        assertThatThrownBy(() -> ModelIo.read(file))
                .hasMessageContaining("not a robustflow model file");
    }
}
