package org.robustflow.model;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.robustflow.avro.Activation;
import org.robustflow.avro.DenseLayerRecord;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.TrainingSettings;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes models: the Avro model file ({@link ModelSnapshot}, also the models topic
 * record) and the interchange format mlp-json/1.
 *
 * <p>mlp-json/1: {@code {"format":"mlp-json/1","inputSize":784,"layers":[{"in":784,"out":50,
 * "weight":[[...]],"bias":[...],"activation":"relu"}, ...]}} with {@code weight} row-major
 * [out][in]; each layer computes W x + b, then its activation ("relu" on every layer but the last,
 * "none" there). Doubles are written in their shortest round-tripping form, so export then import
 * is exact.
 */
public final class ModelIo {
    public static final String JSON_FORMAT = "mlp-json/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelIo() {}

    /**
     * A snapshot of {@code mlp} with its provenance; {@code training} and {@code testAccuracy} may
     * be null.
     */
    public static ModelSnapshot toSnapshot(
            Network mlp, TrainingSettings training, Double testAccuracy, String source) {
        if (!mlp.isMlp()) {
            // The model file holds dense layers with ReLU between them; other layers would be lost.
            throw new IllegalArgumentException(
                    "the model file stores dense/ReLU networks only; "
                            + mlp.architecture()
                            + " has other layers (use the ONNX file directly)");
        }
        List<DenseLayerRecord> layers = new ArrayList<>();
        List<DenseLayer> dense = mlp.denseLayers();
        for (int l = 0; l < dense.size(); l++) {
            DenseLayer layer = dense.get(l);
            List<Double> weight = new ArrayList<>(layer.inputSize() * layer.outputSize());
            List<Double> bias = new ArrayList<>(layer.outputSize());
            for (int o = 0; o < layer.outputSize(); o++) {
                for (int i = 0; i < layer.inputSize(); i++) {
                    weight.add(layer.weight(o, i));
                }
                bias.add(layer.bias(o));
            }
            layers.add(
                    DenseLayerRecord.newBuilder()
                            .setIn(layer.inputSize())
                            .setOut(layer.outputSize())
                            .setWeight(weight)
                            .setBias(bias)
                            .setActivation(l < dense.size() - 1 ? Activation.RELU : Activation.NONE)
                            .build());
        }
        return ModelSnapshot.newBuilder()
                .setVersion(mlp.version())
                .setInputSize(mlp.inputSize())
                .setLayers(layers)
                .setTraining(training)
                .setTestAccuracy(testAccuracy)
                .setCreatedAt(Instant.now())
                .setSource(source)
                .build();
    }

    /**
     * The network a snapshot describes.
     *
     * @throws IllegalArgumentException naming the problem if shapes, activations or values are
     *     invalid, or the stored version does not match the weights
     */
    public static Network toMlp(ModelSnapshot snapshot) {
        List<DenseLayerRecord> records = snapshot.getLayers();
        List<DenseLayer> layers = new ArrayList<>();
        int expectedIn = snapshot.getInputSize();
        for (int l = 0; l < records.size(); l++) {
            DenseLayerRecord r = records.get(l);
            if (r.getIn() != expectedIn) {
                throw new IllegalArgumentException(
                        "layer " + l + " has in=" + r.getIn() + ", expected " + expectedIn);
            }
            if ((long) r.getIn() * r.getOut() != r.getWeight().size()
                    || r.getOut() != r.getBias().size()) {
                throw new IllegalArgumentException(
                        "layer "
                                + l
                                + " declares "
                                + r.getOut()
                                + "x"
                                + r.getIn()
                                + " but holds "
                                + r.getWeight().size()
                                + " weights and "
                                + r.getBias().size()
                                + " biases");
            }
            checkActivation(l, records.size(), r.getActivation() == Activation.RELU);
            double[][] weight = new double[r.getOut()][r.getIn()];
            double[] bias = new double[r.getOut()];
            for (int o = 0; o < r.getOut(); o++) {
                for (int i = 0; i < r.getIn(); i++) {
                    weight[o][i] = finite(r.getWeight().get(o * r.getIn() + i), l);
                }
                bias[o] = finite(r.getBias().get(o), l);
            }
            layers.add(new DenseLayer(weight, bias));
            expectedIn = r.getOut();
        }
        Network mlp = Network.mlp(layers);
        if (!snapshot.getVersion().isEmpty() && !snapshot.getVersion().equals(mlp.version())) {
            throw new IllegalArgumentException(
                    "model says version "
                            + snapshot.getVersion()
                            + " but its weights hash to "
                            + mlp.version());
        }
        return mlp;
    }

    public static void write(ModelSnapshot snapshot, Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, file.getFileName().toString(), ".tmp");
        try (DataFileWriter<ModelSnapshot> writer =
                new DataFileWriter<>(new SpecificDatumWriter<>(ModelSnapshot.class))) {
            writer.create(ModelSnapshot.getClassSchema(), tmp.toFile());
            writer.append(snapshot);
        }
        // Atomic so a crash never leaves a half-written default model behind.
        Files.move(
                tmp,
                file,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static ModelSnapshot read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new IOException(file + ": no such model file");
        }
        try (DataFileReader<ModelSnapshot> reader =
                new DataFileReader<>(
                        file.toFile(), new SpecificDatumReader<>(ModelSnapshot.class))) {
            if (!reader.hasNext()) {
                throw new IOException(file + ": model file holds no model");
            }
            return withComputedVersion(reader.next());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        } catch (IOException | org.apache.avro.AvroRuntimeException e) {
            throw new IOException(
                    file + ": not a robustflow model file (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The snapshot with its version computed from architecture and weights: an empty version is
     * filled in, never trusted.
     *
     * @throws IllegalArgumentException if the snapshot is not a valid network, or claims a version
     *     its weights do not hash to
     */
    public static ModelSnapshot withComputedVersion(ModelSnapshot snapshot) {
        snapshot.setVersion(toMlp(snapshot).version());
        return snapshot;
    }

    public static void writeJson(Network mlp, OutputStream out) throws IOException {
        try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("format", JSON_FORMAT);
            g.writeNumberField("inputSize", mlp.inputSize());
            g.writeArrayFieldStart("layers");
            List<DenseLayer> dense = mlp.denseLayers();
            for (int l = 0; l < dense.size(); l++) {
                DenseLayer layer = dense.get(l);
                g.writeStartObject();
                g.writeNumberField("in", layer.inputSize());
                g.writeNumberField("out", layer.outputSize());
                g.writeArrayFieldStart("weight");
                for (int o = 0; o < layer.outputSize(); o++) {
                    g.writeStartArray();
                    for (int i = 0; i < layer.inputSize(); i++) {
                        g.writeNumber(layer.weight(o, i));
                    }
                    g.writeEndArray();
                }
                g.writeEndArray();
                g.writeArrayFieldStart("bias");
                for (int o = 0; o < layer.outputSize(); o++) {
                    g.writeNumber(layer.bias(o));
                }
                g.writeEndArray();
                g.writeStringField("activation", l < dense.size() - 1 ? "relu" : "none");
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.flush();
    }

    /** Parses mlp-json/1; errors name the field at fault. */
    public static Network readJson(InputStream source) throws IOException {
        JsonNode root = JSON.readTree(source);
        if (root == null || !root.isObject()) {
            throw new IOException("not a JSON object");
        }
        if (!JSON_FORMAT.equals(root.path("format").asText())) {
            throw new IOException(
                    "\"format\" must be \"" + JSON_FORMAT + "\", found " + root.path("format"));
        }
        JsonNode layersNode = root.path("layers");
        if (!layersNode.isArray() || layersNode.isEmpty()) {
            throw new IOException("\"layers\" must be a non-empty array");
        }
        int expectedIn = requireInt(root, "inputSize", "top level");
        List<DenseLayer> layers = new ArrayList<>();
        for (int l = 0; l < layersNode.size(); l++) {
            JsonNode node = layersNode.get(l);
            String where = "layers[" + l + "]";
            int in = requireInt(node, "in", where);
            int out = requireInt(node, "out", where);
            if (in != expectedIn) {
                throw new IOException(where + ".in is " + in + ", expected " + expectedIn);
            }
            JsonNode w = node.path("weight");
            JsonNode b = node.path("bias");
            if (!w.isArray() || w.size() != out) {
                throw new IOException(where + ".weight must be an array of " + out + " rows");
            }
            if (!b.isArray() || b.size() != out) {
                throw new IOException(where + ".bias must be an array of " + out + " numbers");
            }
            double[][] weight = new double[out][in];
            double[] bias = new double[out];
            for (int o = 0; o < out; o++) {
                JsonNode row = w.get(o);
                if (!row.isArray() || row.size() != in) {
                    throw new IOException(
                            where + ".weight[" + o + "] must be an array of " + in + " numbers");
                }
                for (int i = 0; i < in; i++) {
                    weight[o][i] =
                            requireNumber(row.get(i), where + ".weight[" + o + "][" + i + "]");
                }
                bias[o] = requireNumber(b.get(o), where + ".bias[" + o + "]");
            }
            String activation = node.path("activation").asText("");
            boolean last = l == layersNode.size() - 1;
            if (!activation.equals(last ? "none" : "relu")) {
                throw new IOException(
                        where
                                + ".activation is \""
                                + activation
                                + "\": this format takes \"relu\" on hidden"
                                + " layers and \"none\" on the last");
            }
            layers.add(new DenseLayer(weight, bias));
            expectedIn = out;
        }
        return Network.mlp(layers);
    }

    private static void checkActivation(int layer, int count, boolean relu) {
        boolean last = layer == count - 1;
        if (relu == last) {
            throw new IllegalArgumentException(
                    "layer "
                            + layer
                            + " has activation "
                            + (relu ? "RELU" : "NONE")
                            + ": only hidden layers take RELU");
        }
    }

    private static double finite(double v, int layer) {
        if (!Double.isFinite(v)) {
            throw new IllegalArgumentException("layer " + layer + " holds a non-finite value " + v);
        }
        return v;
    }

    private static int requireInt(JsonNode node, String field, String where) throws IOException {
        JsonNode v = node.path(field);
        if (!v.isInt() || v.intValue() <= 0) {
            throw new IOException(where + "." + field + " must be a positive integer, found " + v);
        }
        return v.intValue();
    }

    private static double requireNumber(JsonNode v, String where) throws IOException {
        if (v == null || !v.isNumber() || !Double.isFinite(v.doubleValue())) {
            throw new IOException(where + " must be a finite number, found " + v);
        }
        return v.doubleValue();
    }
}
