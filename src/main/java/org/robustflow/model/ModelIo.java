package org.robustflow.model;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.file.DataFileReader;
import org.apache.avro.file.DataFileWriter;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.robustflow.avro.Activation;
import org.robustflow.avro.DenseLayerRecord;
import org.robustflow.avro.ElementwiseAffineLayerRecord;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.ReluLayerRecord;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.data.AvroCodec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes models: the Avro model file ({@link ModelSnapshot}, also the models topic
 * record) and the interchange formats mlp-json/1 and net-json/1.
 *
 * <p>mlp-json/1: {@code {"format":"mlp-json/1","inputSize":784,"layers":[{"in":784,"out":50,
 * "weight":[[...]],"bias":[...],"activation":"relu"}, ...]}} with {@code weight} row-major
 * [out][in]; each layer computes W x + b, then its activation ("relu" on every layer but the last,
 * "none" there). Doubles are written in their shortest round-tripping form, so export then import
 * is exact.
 *
 * <p>net-json/1, for any layer sequence: {@code {"format":"net-json/1","inputSize":784,"layers":[
 * {"type":"affine","scale":[...],"shift":[...]},
 * {"type":"dense","in":784,"out":256,"weight":[[...]], "bias":[...]}, {"type":"relu","size":256},
 * ...]}}. An MLP is always written as mlp-json/1, so files for tools that read only that format
 * stay as they were.
 *
 * <p>Compatibility: model files and messages written before the {@code graph} field existed load
 * unchanged (Avro resolves the old writer schema, {@link #codec} knows it for messages), and an MLP
 * keeps its version hash {@code mlp-relu/1} whichever way it is stored.
 */
public final class ModelIo {
    public static final String JSON_FORMAT = "mlp-json/1";

    /** The interchange format of any layer sequence. */
    public static final String NET_JSON_FORMAT = "net-json/1";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Earlier schemas, oldest first: before {@code graph} existed (v1), and before training
     * recorded robust-training settings (v2).
     */
    private static final List<String> EARLIER_SCHEMAS =
            List.of("ModelSnapshot-v1.avsc", "ModelSnapshot-v2.avsc");

    private ModelIo() {}

    /**
     * A codec for model messages (single-object encoding) that also reads messages written with
     * every earlier schema: the models topic is re-read from its start, so older messages stay on
     * it.
     */
    public static AvroCodec<ModelSnapshot> codec() {
        AvroCodec<ModelSnapshot> codec = AvroCodec.of(ModelSnapshot.class);
        for (String name : EARLIER_SCHEMAS) {
            try (InputStream in = ModelIo.class.getResourceAsStream(name)) {
                if (in == null) {
                    throw new IllegalStateException(name + " is missing from the classpath");
                }
                codec.addWriterSchema(new Schema.Parser().parse(in));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return codec;
    }

    /**
     * A snapshot of {@code net} with its provenance; {@code training} and {@code testAccuracy} may
     * be null. An MLP goes into {@code layers} exactly as in every model file before {@code graph}
     * existed (so older readers still load it); any other layer sequence into {@code graph}.
     */
    public static ModelSnapshot toSnapshot(
            Network net, TrainingSettings training, Double testAccuracy, String source) {
        List<DenseLayerRecord> layers = new ArrayList<>();
        List<Object> graph = null;
        if (net.isMlp()) {
            List<DenseLayer> dense = net.denseLayers();
            for (int l = 0; l < dense.size(); l++) {
                layers.add(
                        denseRecord(
                                dense.get(l),
                                l < dense.size() - 1 ? Activation.RELU : Activation.NONE));
            }
        } else {
            graph = new ArrayList<>();
            for (Layer layer : net.layers()) {
                graph.add(layerRecord(layer));
            }
        }
        return ModelSnapshot.newBuilder()
                .setVersion(net.version())
                .setInputSize(net.inputSize())
                .setLayers(layers)
                .setGraph(graph)
                .setTraining(training)
                .setTestAccuracy(testAccuracy)
                .setCreatedAt(Instant.now())
                .setSource(source)
                .build();
    }

    private static Object layerRecord(Layer layer) {
        if (layer instanceof DenseLayer dense) {
            return denseRecord(dense, Activation.NONE);
        }
        if (layer instanceof ReluLayer relu) {
            return ReluLayerRecord.newBuilder().setSize(relu.size()).build();
        }
        if (layer instanceof ElementwiseAffineLayer affine) {
            List<Double> scale = new ArrayList<>(affine.inputSize());
            List<Double> shift = new ArrayList<>(affine.inputSize());
            for (int i = 0; i < affine.inputSize(); i++) {
                scale.add(affine.scale(i));
                shift.add(affine.shift(i));
            }
            return ElementwiseAffineLayerRecord.newBuilder()
                    .setScale(scale)
                    .setShift(shift)
                    .build();
        }
        throw new IllegalArgumentException(
                "the model file has no record for layer type " + layer.getClass().getSimpleName());
    }

    private static DenseLayerRecord denseRecord(DenseLayer layer, Activation activation) {
        List<Double> weight = new ArrayList<>(layer.inputSize() * layer.outputSize());
        List<Double> bias = new ArrayList<>(layer.outputSize());
        for (int o = 0; o < layer.outputSize(); o++) {
            for (int i = 0; i < layer.inputSize(); i++) {
                weight.add(layer.weight(o, i));
            }
            bias.add(layer.bias(o));
        }
        return DenseLayerRecord.newBuilder()
                .setIn(layer.inputSize())
                .setOut(layer.outputSize())
                .setWeight(weight)
                .setBias(bias)
                .setActivation(activation)
                .build();
    }

    /**
     * The network a snapshot describes.
     *
     * @throws IllegalArgumentException naming the problem if shapes, activations or values are
     *     invalid, or the stored version does not match the weights
     */
    public static Network toNetwork(ModelSnapshot snapshot) {
        Network net = snapshot.getGraph() == null ? mlpOf(snapshot) : graphOf(snapshot);
        if (!snapshot.getVersion().isEmpty() && !snapshot.getVersion().equals(net.version())) {
            throw new IllegalArgumentException(
                    "model says version "
                            + snapshot.getVersion()
                            + " but its weights hash to "
                            + net.version());
        }
        return net;
    }

    private static Network mlpOf(ModelSnapshot snapshot) {
        List<DenseLayerRecord> records = snapshot.getLayers();
        List<DenseLayer> layers = new ArrayList<>();
        int expectedIn = snapshot.getInputSize();
        for (int l = 0; l < records.size(); l++) {
            DenseLayerRecord r = records.get(l);
            checkActivation(l, records.size(), r.getActivation() == Activation.RELU);
            DenseLayer layer = dense(r, l, expectedIn);
            layers.add(layer);
            expectedIn = layer.outputSize();
        }
        return Network.mlp(layers);
    }

    private static Network graphOf(ModelSnapshot snapshot) {
        if (!snapshot.getLayers().isEmpty()) {
            // Two descriptions of one network could disagree: refuse rather than pick one.
            throw new IllegalArgumentException("model holds both layers and graph");
        }
        List<Object> records = snapshot.getGraph();
        if (records.isEmpty()) {
            throw new IllegalArgumentException("model graph has no layers");
        }
        List<Layer> layers = new ArrayList<>();
        int expectedIn = snapshot.getInputSize();
        for (int l = 0; l < records.size(); l++) {
            Object r = records.get(l);
            Layer layer;
            if (r instanceof DenseLayerRecord d) {
                if (d.getActivation() != Activation.NONE) {
                    throw new IllegalArgumentException(
                            "graph layer " + l + ": ReLU is its own layer in a graph, not RELU");
                }
                layer = dense(d, l, expectedIn);
            } else if (r instanceof ReluLayerRecord relu) {
                if (relu.getSize() != expectedIn) {
                    throw new IllegalArgumentException(
                            "graph layer "
                                    + l
                                    + " has size="
                                    + relu.getSize()
                                    + ", expected "
                                    + expectedIn);
                }
                layer = new ReluLayer(relu.getSize());
            } else {
                ElementwiseAffineLayerRecord a = (ElementwiseAffineLayerRecord) r;
                if (a.getScale().size() != expectedIn || a.getShift().size() != expectedIn) {
                    throw new IllegalArgumentException(
                            "graph layer "
                                    + l
                                    + " holds "
                                    + a.getScale().size()
                                    + " scales and "
                                    + a.getShift().size()
                                    + " shifts, expected "
                                    + expectedIn);
                }
                double[] scale = new double[expectedIn];
                double[] shift = new double[expectedIn];
                for (int i = 0; i < expectedIn; i++) {
                    scale[i] = finite(a.getScale().get(i), l);
                    shift[i] = finite(a.getShift().get(i), l);
                }
                layer = new ElementwiseAffineLayer(scale, shift);
            }
            layers.add(layer);
            expectedIn = layer.outputSize();
        }
        return new Network(layers);
    }

    private static DenseLayer dense(DenseLayerRecord r, int l, int expectedIn) {
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
        double[][] weight = new double[r.getOut()][r.getIn()];
        double[] bias = new double[r.getOut()];
        for (int o = 0; o < r.getOut(); o++) {
            for (int i = 0; i < r.getIn(); i++) {
                weight[o][i] = finite(r.getWeight().get(o * r.getIn() + i), l);
            }
            bias[o] = finite(r.getBias().get(o), l);
        }
        return new DenseLayer(weight, bias);
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
        snapshot.setVersion(toNetwork(snapshot).version());
        return snapshot;
    }

    /** Writes mlp-json/1 for an MLP (as before graphs existed), net-json/1 for any other net. */
    public static void writeJson(Network net, OutputStream out) throws IOException {
        boolean mlp = net.isMlp();
        try (JsonGenerator g = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            g.disable(JsonGenerator.Feature.AUTO_CLOSE_TARGET);
            g.writeStartObject();
            g.writeStringField("format", mlp ? JSON_FORMAT : NET_JSON_FORMAT);
            g.writeNumberField("inputSize", net.inputSize());
            g.writeArrayFieldStart("layers");
            if (mlp) {
                List<DenseLayer> dense = net.denseLayers();
                for (int l = 0; l < dense.size(); l++) {
                    g.writeStartObject();
                    writeDense(g, dense.get(l));
                    g.writeStringField("activation", l < dense.size() - 1 ? "relu" : "none");
                    g.writeEndObject();
                }
            } else {
                for (Layer layer : net.layers()) {
                    g.writeStartObject();
                    if (layer instanceof DenseLayer dense) {
                        g.writeStringField("type", "dense");
                        writeDense(g, dense);
                    } else if (layer instanceof ReluLayer relu) {
                        g.writeStringField("type", "relu");
                        g.writeNumberField("size", relu.size());
                    } else {
                        ElementwiseAffineLayer affine = (ElementwiseAffineLayer) layer;
                        g.writeStringField("type", "affine");
                        g.writeArrayFieldStart("scale");
                        for (int i = 0; i < affine.inputSize(); i++) {
                            g.writeNumber(affine.scale(i));
                        }
                        g.writeEndArray();
                        g.writeArrayFieldStart("shift");
                        for (int i = 0; i < affine.inputSize(); i++) {
                            g.writeNumber(affine.shift(i));
                        }
                        g.writeEndArray();
                    }
                    g.writeEndObject();
                }
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        out.flush();
    }

    private static void writeDense(JsonGenerator g, DenseLayer layer) throws IOException {
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
    }

    /** Parses mlp-json/1 or net-json/1; errors name the field at fault. */
    public static Network readJson(InputStream source) throws IOException {
        JsonNode root = JSON.readTree(source);
        if (root == null || !root.isObject()) {
            throw new IOException("not a JSON object");
        }
        String format = root.path("format").asText();
        boolean mlp = JSON_FORMAT.equals(format);
        if (!mlp && !NET_JSON_FORMAT.equals(format)) {
            throw new IOException(
                    "\"format\" must be \""
                            + JSON_FORMAT
                            + "\" or \""
                            + NET_JSON_FORMAT
                            + "\", found "
                            + root.path("format"));
        }
        JsonNode layersNode = root.path("layers");
        if (!layersNode.isArray() || layersNode.isEmpty()) {
            throw new IOException("\"layers\" must be a non-empty array");
        }
        int expectedIn = requireInt(root, "inputSize", "top level");
        List<Layer> layers = new ArrayList<>();
        List<DenseLayer> dense = new ArrayList<>();
        for (int l = 0; l < layersNode.size(); l++) {
            JsonNode node = layersNode.get(l);
            String where = "layers[" + l + "]";
            Layer layer;
            if (mlp) {
                DenseLayer d = readDense(node, where, expectedIn);
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
                dense.add(d);
                layer = d;
            } else {
                String type = node.path("type").asText("");
                switch (type) {
                    case "dense" -> layer = readDense(node, where, expectedIn);
                    case "relu" -> {
                        int size = requireInt(node, "size", where);
                        if (size != expectedIn) {
                            throw new IOException(
                                    where + ".size is " + size + ", expected " + expectedIn);
                        }
                        layer = new ReluLayer(size);
                    }
                    case "affine" -> {
                        double[] scale =
                                readVector(node.path("scale"), where + ".scale", expectedIn);
                        double[] shift =
                                readVector(node.path("shift"), where + ".shift", expectedIn);
                        layer = new ElementwiseAffineLayer(scale, shift);
                    }
                    default ->
                            throw new IOException(
                                    where
                                            + ".type is \""
                                            + type
                                            + "\": this format takes \"dense\", \"relu\" or"
                                            + " \"affine\"");
                }
            }
            layers.add(layer);
            expectedIn = layer.outputSize();
        }
        return mlp ? Network.mlp(dense) : new Network(layers);
    }

    private static DenseLayer readDense(JsonNode node, String where, int expectedIn)
            throws IOException {
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
                weight[o][i] = requireNumber(row.get(i), where + ".weight[" + o + "][" + i + "]");
            }
            bias[o] = requireNumber(b.get(o), where + ".bias[" + o + "]");
        }
        return new DenseLayer(weight, bias);
    }

    private static double[] readVector(JsonNode v, String where, int size) throws IOException {
        if (!v.isArray() || v.size() != size) {
            throw new IOException(where + " must be an array of " + size + " numbers");
        }
        double[] out = new double[size];
        for (int i = 0; i < size; i++) {
            out[i] = requireNumber(v.get(i), where + "[" + i + "]");
        }
        return out;
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
