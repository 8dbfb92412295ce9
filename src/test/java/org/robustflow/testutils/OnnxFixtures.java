package org.robustflow.testutils;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * ONNX files written from our networks (float64 tensors, so the weights survive exactly), with an
 * input normalisation (x - mean) / std as Sub and Div nodes in front: the shape of networks trained
 * on normalised MNIST and exported from PyTorch.
 */
public final class OnnxFixtures {
    /** MNIST's pixel mean and standard deviation, as torchvision's examples normalise. */
    public static final double MEAN = 0.1307;

    public static final double STD = 0.3081;

    private OnnxFixtures() {}

    /**
     * An ONNX model computing the same function as {@code mlp} (in exact arithmetic) on inputs in
     * [0,1], written as Sub(MEAN), Div(STD) and then Gemm/Relu nodes whose first Gemm absorbs the
     * normalisation: weights W * STD, bias b + W (MEAN, ..., MEAN).
     */
    public static ModelProto normalised(Network mlp) {
        List<Layer> layers = new ArrayList<>(mlp.layers());
        DenseLayer first = (DenseLayer) layers.get(0);
        double[][] w = new double[first.outputSize()][first.inputSize()];
        double[] b = first.biases();
        for (int o = 0; o < w.length; o++) {
            for (int i = 0; i < w[o].length; i++) {
                w[o][i] = first.weight(o, i) * STD;
                b[o] += first.weight(o, i) * MEAN;
            }
        }
        layers.set(0, new DenseLayer(w, b));
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> inits = new ArrayList<>();
        inits.add(tensor("mean", new long[] {1}, MEAN));
        inits.add(tensor("std", new long[] {1}, STD));
        nodes.add(node("sub", "Sub", List.of("x", "mean"), "centred"));
        nodes.add(node("div", "Div", List.of("centred", "std"), "h0"));
        String h = append(layers, nodes, inits, "h0");
        return model(nodes, inits, mlp.inputSize(), h);
    }

    /** Any layer sequence as Gemm (transB), Relu, and Mul/Add for element-wise affine layers. */
    public static ModelProto of(Network net) {
        List<NodeProto> nodes = new ArrayList<>();
        List<TensorProto> inits = new ArrayList<>();
        String h = append(net.layers(), nodes, inits, "x");
        return model(nodes, inits, net.inputSize(), h);
    }

    public static Path write(ModelProto model, Path file) throws IOException {
        Files.write(file, model.toByteArray());
        return file;
    }

    private static String append(
            List<Layer> layers, List<NodeProto> nodes, List<TensorProto> inits, String input) {
        String h = input;
        for (int l = 0; l < layers.size(); l++) {
            Layer layer = layers.get(l);
            String out = "l" + l;
            if (layer instanceof DenseLayer dense) {
                double[] w = new double[dense.outputSize() * dense.inputSize()];
                for (int o = 0; o < dense.outputSize(); o++) {
                    for (int i = 0; i < dense.inputSize(); i++) {
                        w[o * dense.inputSize() + i] = dense.weight(o, i);
                    }
                }
                inits.add(tensor("W" + l, new long[] {dense.outputSize(), dense.inputSize()}, w));
                inits.add(tensor("b" + l, new long[] {dense.outputSize()}, dense.biases()));
                nodes.add(
                        NodeProto.newBuilder()
                                .setName("gemm" + l)
                                .setOpType("Gemm")
                                .addAllInput(List.of(h, "W" + l, "b" + l))
                                .addOutput(out)
                                .addAttribute(
                                        AttributeProto.newBuilder()
                                                .setName("transB")
                                                .setType(AttributeProto.AttributeType.INT)
                                                .setI(1))
                                .build());
            } else if (layer instanceof ReluLayer) {
                nodes.add(node("relu" + l, "Relu", List.of(h), out));
            } else {
                ElementwiseAffineLayer affine = (ElementwiseAffineLayer) layer;
                double[] scale = new double[affine.inputSize()];
                double[] shift = new double[affine.inputSize()];
                for (int i = 0; i < scale.length; i++) {
                    scale[i] = affine.scale(i);
                    shift[i] = affine.shift(i);
                }
                inits.add(tensor("scale" + l, new long[] {scale.length}, scale));
                inits.add(tensor("shift" + l, new long[] {shift.length}, shift));
                nodes.add(node("mul" + l, "Mul", List.of(h, "scale" + l), out + "m"));
                nodes.add(node("add" + l, "Add", List.of(out + "m", "shift" + l), out));
            }
            h = out;
        }
        return h;
    }

    private static TensorProto tensor(String name, long[] dims, double... values) {
        TensorProto.Builder t =
                TensorProto.newBuilder()
                        .setName(name)
                        .setDataType(TensorProto.DataType.DOUBLE_VALUE);
        for (long d : dims) {
            t.addDims(d);
        }
        for (double v : values) {
            t.addDoubleData(v);
        }
        return t.build();
    }

    private static NodeProto node(String name, String op, List<String> inputs, String output) {
        return NodeProto.newBuilder()
                .setName(name)
                .setOpType(op)
                .addAllInput(inputs)
                .addOutput(output)
                .build();
    }

    private static ModelProto model(
            List<NodeProto> nodes, List<TensorProto> inits, int inputSize, String output) {
        TypeProto type =
                TypeProto.newBuilder()
                        .setTensorType(
                                TypeProto.Tensor.newBuilder()
                                        .setElemType(TensorProto.DataType.DOUBLE_VALUE)
                                        .setShape(
                                                TensorShapeProto.newBuilder()
                                                        .addDim(
                                                                TensorShapeProto.Dimension
                                                                        .newBuilder()
                                                                        .setDimValue(1))
                                                        .addDim(
                                                                TensorShapeProto.Dimension
                                                                        .newBuilder()
                                                                        .setDimValue(inputSize))))
                        .build();
        GraphProto graph =
                GraphProto.newBuilder()
                        .setName("robustflow-fixture")
                        .addAllNode(nodes)
                        .addAllInitializer(inits)
                        .addInput(ValueInfoProto.newBuilder().setName("x").setType(type))
                        .addOutput(ValueInfoProto.newBuilder().setName(output))
                        .build();
        return ModelProto.newBuilder()
                .setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
                .setProducerName("robustflow-test")
                .setGraph(graph)
                .build();
    }
}
