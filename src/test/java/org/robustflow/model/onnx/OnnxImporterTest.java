package org.robustflow.model.onnx;

import ai.onnxruntime.OrtException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.model.onnx.proto.Onnx.AttributeProto;
import org.robustflow.model.onnx.proto.Onnx.GraphProto;
import org.robustflow.model.onnx.proto.Onnx.ModelProto;
import org.robustflow.model.onnx.proto.Onnx.NodeProto;
import org.robustflow.model.onnx.proto.Onnx.OperatorSetIdProto;
import org.robustflow.model.onnx.proto.Onnx.TensorProto;
import org.robustflow.model.onnx.proto.Onnx.TensorShapeProto;
import org.robustflow.model.onnx.proto.Onnx.TypeProto;
import org.robustflow.model.onnx.proto.Onnx.ValueInfoProto;
import org.robustflow.testutils.Bench;
import org.robustflow.testutils.Fixtures;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class OnnxImporterTest {
    private static final String SUPPORTED = "[Gemm, MatMul, Add, Sub, Mul, Div, Relu, Flatten";

    private static Path network(String name) {
        Path bench = Bench.mnistFc();
        assumeTrue(bench != null, "shared/bench/vnncomp2022-mnist_fc not found above the cwd");
        return bench.resolve("onnx").resolve(name);
    }

    private static byte[] gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return in.readAllBytes();
        }
    }

    // ---------------------------------------------------------------- the benchmark networks

    @ParameterizedTest
    @CsvSource({
        "mnist-net_256x2.onnx.gz, 784-256-256-10, 2",
        "mnist-net_256x4.onnx.gz, 784-256-256-256-256-10, 4",
        "mnist-net_256x6.onnx.gz, 784-256-256-256-256-256-256-10, 6"
    })
    void shouldImportMnistFcNetworksWithLogitsOfOnnxRuntimeOnTheTestSet(
            String file, String architecture, int hidden) throws IOException, OrtException {
        Path path = network(file);
        Network net = OnnxImporter.read(path);

        assertThat(net.architecture()).isEqualTo(architecture);
        assertThat(net.isMlp()).isTrue();
        assertThat(net.hiddenNeurons()).isEqualTo(256 * hidden);

        ModelProto model = ModelProto.parseFrom(gunzip(path));
        // The file declares the input [1, 784, 1]: the image's 784 pixels in [0,1], row-major.
        long[] inputShape = {1, 784, 1};
        MnistDataset test = Fixtures.mnistTest();
        double maxDiff64 = 0;
        double maxDiff32 = 0;
        int correct = 0;
        int sameClassAsOrt32 = 0;
        try (OrtReference ort64 = new OrtReference(model, inputShape, true);
                OrtReference ort32 = new OrtReference(model, inputShape, false)) {
            for (int i = 0; i < test.size(); i++) {
                double[] x = test.pixels(i);
                double[] ours = net.logits(x);
                double[] ref64 = ort64.run(x);
                double[] ref32 = ort32.run(x);
                assertThat(ours).hasSize(10);
                assertThat(ref64).hasSize(10);
                for (int j = 0; j < 10; j++) {
                    maxDiff64 = Math.max(maxDiff64, Math.abs(ours[j] - ref64[j]));
                    maxDiff32 = Math.max(maxDiff32, Math.abs(ours[j] - ref32[j]));
                }
                int predicted = Network.argMax(ours);
                correct += predicted == test.label(i) ? 1 : 0;
                sameClassAsOrt32 += predicted == Network.argMax(ref32) ? 1 : 0;
            }
        }
        System.out.printf(
                "%s: max |logit - onnxruntime float64| = %.3e, float32 file = %.3e over %d"
                        + " images; accuracy %.4f; same class as float32 onnxruntime on %d%n",
                file,
                maxDiff64,
                maxDiff32,
                test.size(),
                correct / (double) test.size(),
                sameClassAsOrt32);
        assertThat(maxDiff64).isLessThanOrEqualTo(1e-6);
        // float32 evaluation rounds every product and sum: agreement to its precision only.
        assertThat(maxDiff32).isLessThanOrEqualTo(1e-4);
        assertThat(correct).isGreaterThan(9000);
    }

    @Test
    void shouldKeepAnImportedMlpThroughTheAvroModelFile() throws IOException {
        // mnist_fc networks are plain MLPs, so today's model file already holds them exactly.
        Network net = OnnxImporter.read(network("mnist-net_256x2.onnx.gz"));
        Network back =
                ModelIo.toNetwork(ModelIo.toSnapshot(net, null, null, "mnist-net_256x2.onnx.gz"));
        assertThat(back.version()).isEqualTo(net.version());
        double[] x = Fixtures.mnistTest().pixels(0);
        assertThat(back.logits(x)).containsExactly(net.logits(x));
    }

    @Test
    void shouldRejectTruncatedAndCorruptFilesWithImportErrors() throws IOException {
        Path path = network("mnist-net_256x2.onnx.gz");
        byte[] gz = Files.readAllBytes(path);
        byte[] raw = gunzip(path);

        assertThatThrownBy(() -> OnnxImporter.parse(Arrays.copyOf(gz, gz.length / 2), "t.onnx.gz"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("t.onnx.gz")
                .hasMessageContaining("gzip");
        assertThatThrownBy(() -> OnnxImporter.parse(new byte[0], "empty.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("empty.onnx");
        byte[] noise = new byte[5000];
        new Random(3).nextBytes(noise);
        noise[0] = 0x08;
        assertThatThrownBy(() -> OnnxImporter.parse(noise, "noise.onnx"))
                .isInstanceOf(OnnxImportException.class);
        // Cut anywhere: a protobuf error, or a graph that lost its tensors or nodes.
        Random random = new Random(5);
        for (int trial = 0; trial < 60; trial++) {
            // (The last bytes hold only opset_import, which the importer does not need.)
            int cut = random.nextInt(raw.length - 64);
            assertThatThrownBy(() -> OnnxImporter.parse(Arrays.copyOf(raw, cut), "cut.onnx"))
                    .as("cut at %d", cut)
                    .isInstanceOf(OnnxImportException.class)
                    .hasMessageStartingWith("cut.onnx: ");
        }
    }

    // ---------------------------------------------------------------- small graphs

    @ParameterizedTest
    @CsvSource({
        // alpha, beta, transB, shape of C ("none" for no C)
        "1.0, 1.0, 0, 3",
        "0.5, 2.0, 1, 1x3",
        "2.0, -1.0, 1, scalar",
        "1.0, 0.5, 0, 1x1",
        "-1.5, 1.0, 0, none"
    })
    void shouldImportGemmVariantsLikeOnnxRuntime(
            double alpha, double beta, int transB, String cShape) throws OrtException {
        Random random = new Random(7);
        long[] bDims = transB == 1 ? new long[] {3, 4} : new long[] {4, 3};
        List<String> inputs = new ArrayList<>(List.of("x", "B"));
        List<TensorProto> inits = new ArrayList<>(List.of(tensor("B", bDims, random)));
        if (!cShape.equals("none")) {
            long[] cDims =
                    switch (cShape) {
                        case "3" -> new long[] {3};
                        case "1x3" -> new long[] {1, 3};
                        case "1x1" -> new long[] {1, 1};
                        default -> new long[] {};
                    };
            inputs.add("C");
            inits.add(tensor("C", cDims, random));
        }
        NodeProto gemm =
                node(
                        "fc",
                        "Gemm",
                        inputs,
                        "y",
                        floatAttr("alpha", alpha),
                        floatAttr("beta", beta),
                        intAttr("transB", transB));
        ModelProto model = model(List.of(gemm), inits, new long[] {1, 4}, "y");

        Network net = OnnxImporter.parse(model.toByteArray(), "gemm.onnx");

        assertThat(net.layers()).hasSize(1).first().isInstanceOf(DenseLayer.class);
        assertSameAsOnnxRuntime(net, model, new long[] {1, 4});
    }

    @Test
    void shouldMergeMatMulAndAddIntoOneDenseLayer() throws OrtException {
        Random random = new Random(8);
        // x [1,4] @ W1 [4,5] + b1 (a Constant node, on the left of Add), Relu, @ W2 [5,2] alone.
        TensorProto b1 = tensor("", new long[] {5}, random);
        NodeProto b1Node =
                NodeProto.newBuilder()
                        .setName("b1")
                        .setOpType("Constant")
                        .addOutput("b1")
                        .addAttribute(
                                AttributeProto.newBuilder()
                                        .setName("value")
                                        .setType(AttributeProto.AttributeType.TENSOR)
                                        .setT(b1))
                        .build();
        List<NodeProto> nodes =
                List.of(
                        b1Node,
                        node("mm1", "MatMul", List.of("x", "W1"), "h"),
                        node("add1", "Add", List.of("b1", "h"), "hb"),
                        node("relu", "Relu", List.of("hb"), "r"),
                        node("mm2", "MatMul", List.of("r", "W2"), "y"));
        ModelProto model =
                model(
                        nodes,
                        List.of(
                                tensor("W1", new long[] {4, 5}, random),
                                tensor("W2", new long[] {5, 2}, random)),
                        new long[] {1, 4},
                        "y");

        Network net = OnnxImporter.parse(model.toByteArray(), "matmul.onnx");

        assertThat(net.layers())
                .extracting(Layer::getClass)
                .containsExactly(DenseLayer.class, ReluLayer.class, DenseLayer.class);
        DenseLayer first = (DenseLayer) net.layers().get(0);
        DenseLayer last = (DenseLayer) net.layers().get(2);
        assertThat(first.biases()).doesNotContain(0.0);
        assertThat(last.biases()).containsOnly(0.0);
        assertThat(net.architecture()).isEqualTo("4-5-2");
        assertSameAsOnnxRuntime(net, model, new long[] {1, 4});
    }

    @Test
    void shouldImportAOneDimensionalInputThroughMatMul() throws OrtException {
        Random random = new Random(9);
        ModelProto model =
                model(
                        List.of(
                                node("mm", "MatMul", List.of("x", "W"), "h"),
                                node("add", "Add", List.of("h", "b"), "y")),
                        List.of(
                                tensor("W", new long[] {3, 2}, random),
                                tensor("b", new long[] {2}, random)),
                        new long[] {3},
                        "y");
        Network net = OnnxImporter.parse(model.toByteArray(), "flat.onnx");
        assertThat(net.layers()).hasSize(1);
        assertSameAsOnnxRuntime(net, model, new long[] {3});
    }

    @Test
    void shouldComposeInputNormalisationIntoOneElementwiseLayer() throws OrtException {
        Random random = new Random(10);
        // ((x - mean) / std) * gain, then c - that, reshaped via a Constant shape, then Gemm.
        NodeProto shape =
                NodeProto.newBuilder()
                        .setName("shape")
                        .setOpType("Constant")
                        .addOutput("target")
                        .addAttribute(
                                AttributeProto.newBuilder()
                                        .setName("value")
                                        .setType(AttributeProto.AttributeType.TENSOR)
                                        .setT(
                                                TensorProto.newBuilder()
                                                        .setDataType(
                                                                TensorProto.DataType.INT64_VALUE)
                                                        .addDims(2)
                                                        .addInt64Data(1)
                                                        .addInt64Data(-1)))
                        .build();
        List<NodeProto> nodes =
                List.of(
                        node("sub", "Sub", List.of("x", "mean"), "a"),
                        node("div", "Div", List.of("a", "std"), "b"),
                        node("mul", "Mul", List.of("gain", "b"), "c"),
                        node("rsub", "Sub", List.of("offset", "c"), "d"),
                        node("id", "Identity", List.of("d"), "e"),
                        shape,
                        node("reshape", "Reshape", List.of("e", "target"), "f"),
                        node("fc", "Gemm", List.of("f", "W", "bias"), "y", intAttr("transB", 1)));
        ModelProto model =
                model(
                        nodes,
                        List.of(
                                values("mean", new long[] {}, 0.1307),
                                values("std", new long[] {1}, 0.3081),
                                tensor("gain", new long[] {1, 1, 2, 2}, random),
                                tensor("offset", new long[] {2}, random),
                                tensor("W", new long[] {3, 4}, random),
                                tensor("bias", new long[] {3}, random)),
                        new long[] {1, 1, 2, 2},
                        "y");

        Network net = OnnxImporter.parse(model.toByteArray(), "norm.onnx");

        assertThat(net.layers())
                .extracting(Layer::getClass)
                .containsExactly(ElementwiseAffineLayer.class, DenseLayer.class);
        ElementwiseAffineLayer norm = (ElementwiseAffineLayer) net.layers().get(0);
        // offset - gain * (x - mean) / std: the scale is -gain/std, element by element.
        assertThat(norm.scale(0)).isNegative().isCloseTo(-gainAt(model, 0) / 0.3081f, within());
        assertSameAsOnnxRuntime(net, model, new long[] {1, 1, 2, 2});
    }

    @Test
    void shouldTreatASymbolicFirstDimensionAsTheBatch() throws OrtException {
        Random random = new Random(12);
        ModelProto model =
                model(
                        List.of(
                                node("fl", "Flatten", List.of("x"), "f"),
                                node("fc", "Gemm", List.of("f", "W"), "y")),
                        List.of(tensor("W", new long[] {6, 2}, random)),
                        new long[] {-1, 2, 3},
                        "y");
        Network net = OnnxImporter.parse(model.toByteArray(), "batch.onnx");
        assertThat(net.inputSize()).isEqualTo(6);
        assertSameAsOnnxRuntime(net, model, new long[] {1, 2, 3});
    }

    @Test
    void shouldNameNodeAndOpTypeOfUnsupportedOperators() {
        Random random = new Random(13);
        ModelProto sigmoid =
                model(
                        List.of(
                                node("fc", "Gemm", List.of("x", "W"), "h"),
                                node("act1", "Sigmoid", List.of("h"), "y")),
                        List.of(tensor("W", new long[] {4, 2}, random)),
                        new long[] {1, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(sigmoid.toByteArray(), "s.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("s.onnx")
                .hasMessageContaining("'act1' (#1)")
                .hasMessageContaining("Sigmoid")
                .hasMessageContaining(SUPPORTED);

        ModelProto conv =
                model(
                        List.of(node("", "Conv", List.of("x", "K"), "y")),
                        List.of(tensor("K", new long[] {1, 1, 3, 3}, random)),
                        new long[] {1, 1, 4, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(conv.toByteArray(), "c.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("#0 (unnamed, output 'y')")
                .hasMessageContaining("op type Conv")
                .hasMessageContaining(SUPPORTED);
    }

    @Test
    void shouldRejectTransAAndNonChainGraphsClearly() {
        Random random = new Random(14);
        ModelProto transA =
                model(
                        List.of(node("fc", "Gemm", List.of("x", "W"), "y", intAttr("transA", 1))),
                        List.of(tensor("W", new long[] {4, 2}, random)),
                        new long[] {1, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(transA.toByteArray(), "t.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("'fc'")
                .hasMessageContaining("transA=1");

        // A residual connection: y = x + relu(x).
        ModelProto branch =
                model(
                        List.of(
                                node("relu", "Relu", List.of("x"), "r"),
                                node("res", "Add", List.of("x", "r"), "y")),
                        List.of(),
                        new long[] {1, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(branch.toByteArray(), "b.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("'res'")
                .hasMessageContaining("not a constant");

        ModelProto dead =
                model(
                        List.of(
                                node("relu", "Relu", List.of("x"), "r"),
                                node("relu2", "Relu", List.of("x"), "y")),
                        List.of(),
                        new long[] {1, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(dead.toByteArray(), "d.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("'relu2'")
                .hasMessageContaining("chain");

        ModelProto growing =
                model(
                        List.of(node("add", "Add", List.of("x", "big"), "y")),
                        List.of(tensor("big", new long[] {3, 4}, random)),
                        new long[] {1, 4},
                        "y");
        assertThatThrownBy(() -> OnnxImporter.parse(growing.toByteArray(), "g.onnx"))
                .isInstanceOf(OnnxImportException.class)
                .hasMessageContaining("'add'")
                .hasMessageContaining("keep the value's size");
    }

    @Test
    void shouldReadGzipAndFloat64Weights() throws IOException {
        TensorProto w =
                TensorProto.newBuilder()
                        .setName("W")
                        .setDataType(TensorProto.DataType.DOUBLE_VALUE)
                        .addDims(2)
                        .addDims(1)
                        .addDoubleData(0.1)
                        .addDoubleData(-4)
                        .build();
        ModelProto model =
                model(
                        List.of(node("fc", "Gemm", List.of("x", "W"), "y")),
                        List.of(w),
                        new long[] {1, 2},
                        "y");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write(model.toByteArray());
        }
        Network net = OnnxImporter.parse(bytes.toByteArray(), "w.onnx.gz");
        // float64 weights stay exactly as written (0.1 is not a float32 value).
        assertThat(net.logits(new double[] {2, 1})).containsExactly(2 * 0.1 - 4);
    }

    // ---------------------------------------------------------------- helpers

    /** Our logits against onnxruntime's float64 evaluation on random inputs. */
    private static void assertSameAsOnnxRuntime(Network net, ModelProto model, long[] shape)
            throws OrtException {
        Random random = new Random(99);
        try (OrtReference ort = new OrtReference(model, shape, true)) {
            for (int trial = 0; trial < 20; trial++) {
                double[] x = new double[net.inputSize()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = random.nextDouble() * 2 - 1;
                }
                double[] ours = net.logits(x);
                double[] ref = ort.run(x);
                assertThat(ours).hasSameSizeAs(ref);
                for (int j = 0; j < ref.length; j++) {
                    assertThat(ours[j]).as("output %d", j).isCloseTo(ref[j], within());
                }
            }
        }
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(1e-12);
    }

    private static double gainAt(ModelProto model, int i) {
        for (TensorProto t : model.getGraph().getInitializerList()) {
            if (t.getName().equals("gain")) {
                return t.getFloatData(i);
            }
        }
        throw new IllegalArgumentException("no gain");
    }

    /** A float32 tensor of random values in float_data. */
    private static TensorProto tensor(String name, long[] dims, Random random) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = random.nextGaussian();
        }
        return values(name, dims, v);
    }

    private static TensorProto values(String name, long[] dims, double... values) {
        TensorProto.Builder t =
                TensorProto.newBuilder()
                        .setName(name)
                        .setDataType(TensorProto.DataType.FLOAT_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (double v : values) {
            t.addFloatData((float) v);
        }
        return t.build();
    }

    private static NodeProto node(
            String name, String op, List<String> inputs, String output, AttributeProto... attrs) {
        return NodeProto.newBuilder()
                .setName(name)
                .setOpType(op)
                .addAllInput(inputs)
                .addOutput(output)
                .addAllAttribute(List.of(attrs))
                .build();
    }

    private static AttributeProto floatAttr(String name, double value) {
        return AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.FLOAT)
                .setF((float) value)
                .build();
    }

    private static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder()
                .setName(name)
                .setType(AttributeProto.AttributeType.INT)
                .setI(value)
                .build();
    }

    /** A float32 model with input "x" of the given shape (-1: symbolic "N") and one output. */
    private static ModelProto model(
            List<NodeProto> nodes, List<TensorProto> inits, long[] inputShape, String output) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : inputShape) {
            shape.addDim(
                    d < 0
                            ? TensorShapeProto.Dimension.newBuilder().setDimParam("N")
                            : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        ValueInfoProto input =
                ValueInfoProto.newBuilder()
                        .setName("x")
                        .setType(
                                TypeProto.newBuilder()
                                        .setTensorType(
                                                TypeProto.Tensor.newBuilder()
                                                        .setElemType(
                                                                TensorProto.DataType.FLOAT_VALUE)
                                                        .setShape(shape)))
                        .build();
        ValueInfoProto out =
                ValueInfoProto.newBuilder()
                        .setName(output)
                        .setType(
                                TypeProto.newBuilder()
                                        .setTensorType(
                                                TypeProto.Tensor.newBuilder()
                                                        .setElemType(
                                                                TensorProto.DataType.FLOAT_VALUE)))
                        .build();
        GraphProto graph =
                GraphProto.newBuilder()
                        .setName("test")
                        .addAllNode(nodes)
                        .addAllInitializer(inits)
                        .addInput(input)
                        .addOutput(out)
                        .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .setProducerName("robustflow-test")
                .setGraph(graph)
                .build();
    }
}
