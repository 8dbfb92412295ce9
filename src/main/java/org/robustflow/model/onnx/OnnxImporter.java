package org.robustflow.model.onnx;

import com.google.protobuf.InvalidProtocolBufferException;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.model.onnx.proto.Onnx.AttributeProto;
import org.robustflow.model.onnx.proto.Onnx.GraphProto;
import org.robustflow.model.onnx.proto.Onnx.ModelProto;
import org.robustflow.model.onnx.proto.Onnx.NodeProto;
import org.robustflow.model.onnx.proto.Onnx.TensorProto;
import org.robustflow.model.onnx.proto.Onnx.TensorShapeProto;
import org.robustflow.model.onnx.proto.Onnx.ValueInfoProto;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Imports a feed-forward ONNX classifier ({@code .onnx} or {@code .onnx.gz}) as a {@link Network}.
 *
 * <p>The graph must be a chain: from its single input (graph inputs that are initializers do not
 * count) through one operator after another to its single output, every operator reading the
 * previous one's output plus constants (initializers or {@code Constant} nodes). Supported: {@code
 * Gemm} (alpha, beta, transB; C broadcast; transA = 0 only), {@code MatMul} with a constant right
 * operand (x W), merged with a following {@code Add} of a constant into one dense layer, {@code
 * Add}/{@code Sub}/{@code Mul}/{@code Div} with one constant operand (scalar or per element, numpy
 * broadcasting that does not grow the data; consecutive ones compose into one element-wise affine
 * layer), {@code Relu}, {@code Flatten}, {@code Reshape} (constant shape), {@code Identity}, {@code
 * Constant}. Input shapes such as [1,784], [784], [1,1,28,28] or [1,784,1]; a symbolic first
 * dimension is the batch and counts as 1.
 *
 * <p>Weights are float32 or float64 tensors (raw little-endian bytes or the typed fields), widened
 * to double exactly. Gemm's alpha and beta multiply the weights in double (exact for float32
 * weights and a float32 factor); a constant divisor d becomes the scale 1/d, rounded once.
 *
 * <p>Anything else raises an {@link OnnxImportException} naming the file, the node (name, index, op
 * type) and the supported operators.
 *
 * <pre>{@code
 * Network net = OnnxImporter.read(Path.of("mnist-net_256x2.onnx.gz"));
 * net.architecture();   // "784-256-256-10"
 * }</pre>
 */
public final class OnnxImporter {
    /** Operator types this importer understands, in the order error messages list them. */
    public static final List<String> SUPPORTED_OPS =
            List.of(
                    "Gemm",
                    "MatMul",
                    "Add",
                    "Sub",
                    "Mul",
                    "Div",
                    "Relu",
                    "Flatten",
                    "Reshape",
                    "Identity",
                    "Constant");

    private static final int FLOAT = TensorProto.DataType.FLOAT_VALUE;
    private static final int DOUBLE = TensorProto.DataType.DOUBLE_VALUE;
    private static final int INT64 = TensorProto.DataType.INT64_VALUE;
    private static final int INT32 = TensorProto.DataType.INT32_VALUE;

    private final String source;
    private final Map<String, TensorProto> constants = new HashMap<>();
    private final List<Layer> layers = new ArrayList<>();

    /** The value flowing along the chain and its shape (symbolic batch dimension as 1). */
    private String current;

    private long[] shape;

    /** Element-wise affine ops not yet emitted, composed: x -> pendingScale x + pendingShift. */
    private double[] pendingScale;

    private double[] pendingShift;

    private OnnxImporter(String source) {
        this.source = source;
    }

    /** Reads an ONNX file, gzip-compressed or not (recognised by its magic bytes or ".gz"). */
    public static Network read(Path file) throws IOException {
        return parse(Files.readAllBytes(file), file.toString());
    }

    /** Imports ONNX bytes (gzip-compressed or not); {@code sourceName} prefixes error messages. */
    public static Network parse(byte[] bytes, String sourceName) {
        byte[] raw = bytes;
        boolean gzip = raw.length >= 2 && (raw[0] & 0xff) == 0x1f && (raw[1] & 0xff) == 0x8b;
        if (gzip || sourceName.endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(raw))) {
                raw = in.readAllBytes();
            } catch (IOException e) {
                throw new OnnxImportException(
                        sourceName + ": not a readable gzip file (" + e.getMessage() + ")", e);
            }
        }
        ModelProto model;
        try {
            model = ModelProto.parseFrom(raw);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxImportException(
                    sourceName
                            + ": not an ONNX model, or a truncated one (protobuf: "
                            + e.getMessage()
                            + ")",
                    e);
        }
        return new OnnxImporter(sourceName).convert(model);
    }

    // ---------------------------------------------------------------- graph walk

    private Network convert(ModelProto model) {
        if (!model.hasGraph() || model.getGraph().getNodeCount() == 0) {
            throw new OnnxImportException(source + ": not an ONNX model with a graph of nodes");
        }
        GraphProto graph = model.getGraph();
        for (TensorProto t : graph.getInitializerList()) {
            constants.put(t.getName(), t);
        }
        ValueInfoProto input = graphInput(graph);
        current = input.getName();
        shape = inputShape(input);

        List<NodeProto> nodes = graph.getNodeList();
        for (int k = 0; k < nodes.size(); k++) {
            NodeProto node = nodes.get(k);
            String domain = node.getDomain();
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) {
                throw unsupported(node, k, "operator domain '" + domain + "'");
            }
            switch (node.getOpType()) {
                case "Constant" -> constant(node, k);
                case "Identity" -> {
                    flowInput(node, k, 0);
                    advance(node, k, shape);
                }
                case "Relu" -> {
                    flowInput(node, k, 0);
                    flushElementwise();
                    layers.add(new ReluLayer(size()));
                    advance(node, k, shape);
                }
                case "Flatten" -> flatten(node, k);
                case "Reshape" -> reshape(node, k);
                case "Gemm" -> gemm(node, k);
                case "MatMul" -> {
                    NodeProto next = k + 1 < nodes.size() ? nodes.get(k + 1) : null;
                    if (matMul(node, k, next)) {
                        k++;
                    }
                }
                case "Add", "Sub", "Mul", "Div" -> elementwise(node, k);
                default -> throw unsupported(node, k, "op type '" + node.getOpType() + "'");
            }
        }
        flushElementwise();

        if (graph.getOutputCount() != 1) {
            throw new OnnxImportException(
                    source
                            + ": the graph has "
                            + graph.getOutputCount()
                            + " outputs; expected exactly one (the logits)");
        }
        String output = graph.getOutput(0).getName();
        if (!output.equals(current)) {
            throw new OnnxImportException(
                    source
                            + ": the graph output '"
                            + output
                            + "' is not the end of the operator chain (which ends in '"
                            + current
                            + "')");
        }
        if (layers.isEmpty()) {
            throw new OnnxImportException(source + ": the graph computes nothing but reshapes");
        }
        return new Network(layers);
    }

    private ValueInfoProto graphInput(GraphProto graph) {
        List<ValueInfoProto> real = new ArrayList<>();
        for (ValueInfoProto in : graph.getInputList()) {
            if (!constants.containsKey(in.getName())) {
                real.add(in);
            }
        }
        if (real.size() != 1) {
            throw new OnnxImportException(
                    source
                            + ": the graph has "
                            + real.size()
                            + " inputs that are not initializers "
                            + real.stream().map(ValueInfoProto::getName).toList()
                            + "; expected exactly one (the image)");
        }
        return real.get(0);
    }

    private long[] inputShape(ValueInfoProto input) {
        String what = source + ": graph input '" + input.getName() + "'";
        if (!input.getType().hasTensorType() || !input.getType().getTensorType().hasShape()) {
            throw new OnnxImportException(what + " has no tensor shape; expected e.g. [1, 784]");
        }
        int elem = input.getType().getTensorType().getElemType();
        if (elem != FLOAT && elem != DOUBLE) {
            throw new OnnxImportException(
                    what + " has element type " + elem + "; expected float (1) or double (11)");
        }
        List<TensorShapeProto.Dimension> dims =
                input.getType().getTensorType().getShape().getDimList();
        long[] result = new long[dims.size()];
        for (int d = 0; d < dims.size(); d++) {
            TensorShapeProto.Dimension dim = dims.get(d);
            if (dim.hasDimValue() && dim.getDimValue() > 0) {
                result[d] = dim.getDimValue();
            } else if (d == 0 && !dim.hasDimValue()) {
                // A symbolic (or unset) first dimension is the batch: one image at a time.
                result[d] = 1;
            } else {
                throw new OnnxImportException(
                        what + " has dimension " + d + " = " + dim + "; expected a positive size");
            }
        }
        if (result.length == 0 || product(result) > Integer.MAX_VALUE) {
            throw new OnnxImportException(what + " has shape " + Arrays.toString(result));
        }
        return result;
    }

    /** Moves the chain to the node's first output, with the given shape. */
    private void advance(NodeProto node, int k, long[] newShape) {
        if (node.getOutputCount() < 1 || node.getOutput(0).isEmpty()) {
            throw error(node, k, "has no output");
        }
        current = node.getOutput(0);
        shape = newShape;
    }

    /**
     * The name of input {@code index}, which must be the value flowing along the chain (else the
     * graph is not a chain, or the input is a constant where data is expected).
     */
    private String flowInput(NodeProto node, int k, int index) {
        if (node.getInputCount() <= index) {
            throw error(node, k, "has " + node.getInputCount() + " inputs; expected more");
        }
        String name = node.getInput(index);
        if (!name.equals(current)) {
            throw error(
                    node,
                    k,
                    "reads '"
                            + name
                            + "' as its data input, but the chain's current value is '"
                            + current
                            + "': only a chain of operators is supported (no branches, no"
                            + " constant-only computations)");
        }
        return name;
    }

    private int size() {
        return Math.toIntExact(product(shape));
    }

    // ---------------------------------------------------------------- operators

    private void constant(NodeProto node, int k) {
        if (node.getOutputCount() != 1) {
            throw error(node, k, "must have one output");
        }
        if (node.getAttributeCount() != 1) {
            throw error(node, k, "must have exactly one value attribute");
        }
        AttributeProto a = node.getAttribute(0);
        TensorProto.Builder t = TensorProto.newBuilder().setName(node.getOutput(0));
        switch (a.getName()) {
            case "value" -> t.mergeFrom(a.getT()).setName(node.getOutput(0));
            case "value_float" -> t.setDataType(FLOAT).addFloatData(a.getF());
            case "value_floats" ->
                    t.setDataType(FLOAT)
                            .addDims(a.getFloatsCount())
                            .addAllFloatData(a.getFloatsList());
            case "value_int" -> t.setDataType(INT64).addInt64Data(a.getI());
            case "value_ints" ->
                    t.setDataType(INT64).addDims(a.getIntsCount()).addAllInt64Data(a.getIntsList());
            default ->
                    throw error(
                            node,
                            k,
                            "has attribute '"
                                    + a.getName()
                                    + "'; supported: value, value_float(s), value_int(s)");
        }
        constants.put(node.getOutput(0), t.build());
    }

    private void flatten(NodeProto node, int k) {
        flowInput(node, k, 0);
        long axis = intAttribute(node, "axis", 1);
        int rank = shape.length;
        if (axis < 0) {
            axis += rank;
        }
        if (axis < 0 || axis > rank) {
            throw error(node, k, "has axis " + axis + " outside 0.." + rank);
        }
        long outer = product(Arrays.copyOfRange(shape, 0, (int) axis));
        if (outer != 1) {
            throw error(
                    node,
                    k,
                    "flattens "
                            + Arrays.toString(shape)
                            + " at axis "
                            + axis
                            + " into "
                            + outer
                            + " rows; expected one row (a single image)");
        }
        advance(node, k, new long[] {1, size()});
    }

    private void reshape(NodeProto node, int k) {
        flowInput(node, k, 0);
        long[] target = ints(constantInput(node, k, 1), node, k);
        boolean allowZero = intAttribute(node, "allowzero", 0) != 0;
        long[] result = new long[target.length];
        int inferred = -1;
        for (int d = 0; d < target.length; d++) {
            long v = target[d];
            if (v == 0 && !allowZero) {
                if (d >= shape.length) {
                    throw error(node, k, "copies dimension " + d + " that the input lacks");
                }
                result[d] = shape[d];
            } else if (v == -1 && inferred < 0) {
                inferred = d;
                result[d] = 1;
            } else if (v > 0) {
                result[d] = v;
            } else {
                throw error(node, k, "has target shape " + Arrays.toString(target));
            }
        }
        long known = product(result);
        if (inferred >= 0 && known > 0 && size() % known == 0) {
            result[inferred] = size() / known;
        }
        if (product(result) != size()) {
            throw error(
                    node,
                    k,
                    "reshapes "
                            + Arrays.toString(shape)
                            + " to "
                            + Arrays.toString(target)
                            + ", which does not hold "
                            + size()
                            + " values");
        }
        advance(node, k, result);
    }

    private void gemm(NodeProto node, int k) {
        flowInput(node, k, 0);
        if (intAttribute(node, "transA", 0) != 0) {
            throw error(node, k, "has transA=1; only transA=0 (x as a row) is supported");
        }
        if (shape.length != 2 || shape[0] != 1) {
            throw error(
                    node,
                    k,
                    "takes a value of shape "
                            + Arrays.toString(shape)
                            + "; expected a row [1, K] (use Flatten first)");
        }
        double alpha = floatAttribute(node, "alpha", 1);
        double beta = floatAttribute(node, "beta", 1);
        boolean transB = intAttribute(node, "transB", 0) != 0;
        TensorProto b = constantInput(node, k, 1);
        double[] bValues = floats(b, node, k);
        if (b.getDimsCount() != 2) {
            throw error(node, k, "has B of shape " + b.getDimsList() + "; expected 2-D");
        }
        int in = Math.toIntExact(b.getDims(transB ? 1 : 0));
        int out = Math.toIntExact(b.getDims(transB ? 0 : 1));
        if (in != shape[1]) {
            throw error(
                    node,
                    k,
                    "has B of shape "
                            + b.getDimsList()
                            + (transB ? " (transposed)" : "")
                            + " for an input of "
                            + shape[1]
                            + " values");
        }
        double[][] weight = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                double w = transB ? bValues[o * in + i] : bValues[i * out + o];
                weight[o][i] = alpha * w;
            }
        }
        double[] bias = new double[out];
        if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
            TensorProto c = constantInput(node, k, 2);
            double[] cValues = broadcast(c, new long[] {1, out}, node, k);
            for (int o = 0; o < out; o++) {
                bias[o] = beta * cValues[o];
            }
        }
        flushElementwise();
        layers.add(new DenseLayer(weight, bias));
        advance(node, k, new long[] {1, out});
    }

    /** Returns whether the following node (an Add of a constant) was merged as the bias. */
    private boolean matMul(NodeProto node, int k, NodeProto next) {
        if (node.getInputCount() == 2
                && constants.containsKey(node.getInput(0))
                && node.getInput(1).equals(current)) {
            throw error(node, k, "multiplies a constant by the data (W x); only x W is supported");
        }
        flowInput(node, k, 0);
        TensorProto w = constantInput(node, k, 1);
        double[] wValues = floats(w, node, k);
        int rank = shape.length;
        if (w.getDimsCount() != 2 || w.getDims(0) != shape[rank - 1] || size() != shape[rank - 1]) {
            throw error(
                    node,
                    k,
                    "multiplies a value of shape "
                            + Arrays.toString(shape)
                            + " by W of shape "
                            + w.getDimsList()
                            + "; expected one row [.., K] and W [K, N]");
        }
        int in = Math.toIntExact(w.getDims(0));
        int out = Math.toIntExact(w.getDims(1));
        double[][] weight = new double[out][in];
        for (int o = 0; o < out; o++) {
            for (int i = 0; i < in; i++) {
                weight[o][i] = wValues[i * out + o];
            }
        }
        long[] outShape = shape.clone();
        outShape[rank - 1] = out;
        advance(node, k, outShape);

        double[] bias = new double[out];
        boolean merged = false;
        if (next != null
                && next.getOpType().equals("Add")
                && next.getDomain().isEmpty()
                && next.getInputCount() == 2
                && next.getInputList().contains(current)) {
            String other = next.getInput(0).equals(current) ? next.getInput(1) : next.getInput(0);
            if (constants.containsKey(other)) {
                TensorProto c = constants.get(other);
                long[] biasShape = broadcastShape(shape, c.getDimsList());
                if (biasShape != null && product(biasShape) == out) {
                    bias = broadcast(c, biasShape, next, k + 1);
                    advance(next, k + 1, biasShape);
                    merged = true;
                }
            }
        }
        flushElementwise();
        layers.add(new DenseLayer(weight, bias));
        return merged;
    }

    private void elementwise(NodeProto node, int k) {
        String op = node.getOpType();
        if (node.getInputCount() != 2) {
            throw error(node, k, "has " + node.getInputCount() + " inputs; expected 2");
        }
        boolean dataFirst = node.getInput(0).equals(current);
        boolean dataSecond = node.getInput(1).equals(current);
        if (dataFirst == dataSecond) {
            throw error(
                    node,
                    k,
                    dataFirst
                            ? "combines the value with itself; supported: one constant operand"
                            : "does not read the chain's current value '" + current + "'");
        }
        String constantName = node.getInput(dataFirst ? 1 : 0);
        TensorProto c = constantInput(node, k, dataFirst ? 1 : 0);
        long[] outShape = broadcastShape(shape, c.getDimsList());
        if (outShape == null || product(outShape) != size()) {
            throw error(
                    node,
                    k,
                    "broadcasts the value of shape "
                            + Arrays.toString(shape)
                            + " with constant '"
                            + constantName
                            + "' of shape "
                            + c.getDimsList()
                            + "; only constants that keep the value's size are supported");
        }
        double[] values = broadcast(c, outShape, node, k);
        int n = values.length;
        double[] scale = new double[n];
        double[] shift = new double[n];
        Arrays.fill(scale, 1.0);
        switch (op) {
            case "Add" -> shift = values;
            case "Mul" -> scale = values;
            case "Sub" -> {
                for (int i = 0; i < n; i++) {
                    // x - c, or c - x = -x + c.
                    scale[i] = dataFirst ? 1.0 : -1.0;
                    shift[i] = dataFirst ? -values[i] : values[i];
                }
            }
            default -> {
                if (!dataFirst) {
                    throw error(node, k, "divides by the data (c / x), which is not linear");
                }
                for (int i = 0; i < n; i++) {
                    if (values[i] == 0.0) {
                        throw error(node, k, "divides by zero at element " + i);
                    }
                    scale[i] = 1.0 / values[i];
                }
            }
        }
        composeElementwise(scale, shift);
        advance(node, k, outShape);
    }

    /** Composes s x + t after the pending element-wise map. */
    private void composeElementwise(double[] scale, double[] shift) {
        if (pendingScale == null) {
            pendingScale = scale;
            pendingShift = shift;
            return;
        }
        for (int i = 0; i < scale.length; i++) {
            pendingShift[i] = scale[i] * pendingShift[i] + shift[i];
            pendingScale[i] = scale[i] * pendingScale[i];
        }
    }

    private void flushElementwise() {
        if (pendingScale != null) {
            layers.add(new ElementwiseAffineLayer(pendingScale, pendingShift));
            pendingScale = null;
            pendingShift = null;
        }
    }

    // ---------------------------------------------------------------- tensors

    private TensorProto constantInput(NodeProto node, int k, int index) {
        if (node.getInputCount() <= index || node.getInput(index).isEmpty()) {
            throw error(node, k, "lacks input " + index);
        }
        TensorProto t = constants.get(node.getInput(index));
        if (t == null) {
            throw error(
                    node,
                    k,
                    "takes '"
                            + node.getInput(index)
                            + "' as input "
                            + index
                            + ", which is not a constant (initializer or Constant node)");
        }
        return t;
    }

    private long elementCount(TensorProto t, NodeProto node, int k) {
        long n = 1;
        for (long d : t.getDimsList()) {
            // Zero-sized tensors hold no weights; refusing them keeps layers non-empty.
            if (d <= 0 || n > Integer.MAX_VALUE / d) {
                throw error(
                        node, k, "has tensor '" + t.getName() + "' of shape " + t.getDimsList());
            }
            n *= d;
        }
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw error(node, k, "uses tensor '" + t.getName() + "' stored in an external file");
        }
        return n;
    }

    /** A float32 or float64 tensor's values, row-major, widened to double exactly. */
    private double[] floats(TensorProto t, NodeProto node, int k) {
        int n = Math.toIntExact(elementCount(t, node, k));
        double[] v = new double[n];
        if (t.getDataType() == FLOAT) {
            if (!t.getRawData().isEmpty()) {
                checkRawSize(t, n, 4, node, k);
                ByteBuffer buf = t.getRawData().asReadOnlyByteBuffer();
                buf.order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    v[i] = buf.getFloat();
                }
            } else {
                checkCount(t, t.getFloatDataCount(), n, node, k);
                for (int i = 0; i < n; i++) {
                    v[i] = t.getFloatData(i);
                }
            }
        } else if (t.getDataType() == DOUBLE) {
            if (!t.getRawData().isEmpty()) {
                checkRawSize(t, n, 8, node, k);
                ByteBuffer buf = t.getRawData().asReadOnlyByteBuffer();
                buf.order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    v[i] = buf.getDouble();
                }
            } else {
                checkCount(t, t.getDoubleDataCount(), n, node, k);
                for (int i = 0; i < n; i++) {
                    v[i] = t.getDoubleData(i);
                }
            }
        } else {
            throw error(
                    node,
                    k,
                    "uses tensor '"
                            + t.getName()
                            + "' of data type "
                            + t.getDataType()
                            + "; supported: float (1) and double (11)");
        }
        for (int i = 0; i < n; i++) {
            if (!Double.isFinite(v[i])) {
                throw error(node, k, "uses tensor '" + t.getName() + "' holding " + v[i]);
            }
        }
        return v;
    }

    /** An int64 (or int32) tensor's values, for shapes. */
    private long[] ints(TensorProto t, NodeProto node, int k) {
        int n = Math.toIntExact(elementCount(t, node, k));
        long[] v = new long[n];
        if (t.getDataType() == INT64 && !t.getRawData().isEmpty()) {
            checkRawSize(t, n, 8, node, k);
            ByteBuffer buf = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                v[i] = buf.getLong();
            }
        } else if (t.getDataType() == INT64) {
            checkCount(t, t.getInt64DataCount(), n, node, k);
            for (int i = 0; i < n; i++) {
                v[i] = t.getInt64Data(i);
            }
        } else if (t.getDataType() == INT32 && !t.getRawData().isEmpty()) {
            checkRawSize(t, n, 4, node, k);
            ByteBuffer buf = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                v[i] = buf.getInt();
            }
        } else if (t.getDataType() == INT32) {
            checkCount(t, t.getInt32DataCount(), n, node, k);
            for (int i = 0; i < n; i++) {
                v[i] = t.getInt32Data(i);
            }
        } else {
            throw error(
                    node,
                    k,
                    "uses tensor '"
                            + t.getName()
                            + "' of data type "
                            + t.getDataType()
                            + " as a shape; expected int64 (7)");
        }
        return v;
    }

    private void checkRawSize(TensorProto t, int n, int width, NodeProto node, int k) {
        if (t.getRawData().size() != (long) n * width) {
            throw error(
                    node,
                    k,
                    "uses tensor '"
                            + t.getName()
                            + "' with "
                            + t.getRawData().size()
                            + " raw bytes for "
                            + n
                            + " values of "
                            + width
                            + " bytes (truncated file?)");
        }
    }

    private void checkCount(TensorProto t, int count, int n, NodeProto node, int k) {
        if (count != n) {
            throw error(
                    node,
                    k,
                    "uses tensor '"
                            + t.getName()
                            + "' with "
                            + count
                            + " values for shape "
                            + t.getDimsList());
        }
    }

    /**
     * The numpy broadcast of {@code value} and {@code constant} shapes, or null when they are
     * incompatible.
     */
    private static long[] broadcastShape(long[] value, List<Long> constant) {
        int rank = Math.max(value.length, constant.size());
        long[] r = new long[rank];
        for (int d = 0; d < rank; d++) {
            int dv = d - (rank - value.length);
            int dc = d - (rank - constant.size());
            long a = dv >= 0 ? value[dv] : 1;
            long b = dc >= 0 ? constant.get(dc) : 1;
            if (a == b || b == 1) {
                r[d] = a;
            } else if (a == 1) {
                r[d] = b;
            } else {
                return null;
            }
        }
        return r;
    }

    /** The constant's values expanded to {@code target} by numpy broadcasting (row-major). */
    private double[] broadcast(TensorProto c, long[] target, NodeProto node, int k) {
        double[] values = floats(c, node, k);
        List<Long> dims = c.getDimsList();
        long[] full = broadcastShape(target, dims);
        if (!Arrays.equals(full, target)) {
            throw error(
                    node,
                    k,
                    "cannot broadcast constant '"
                            + c.getName()
                            + "' of shape "
                            + dims
                            + " to "
                            + Arrays.toString(target));
        }
        int n = Math.toIntExact(product(target));
        double[] out = new double[n];
        int rank = target.length;
        int offset = rank - dims.size();
        for (int f = 0; f < n; f++) {
            // Walk the target index from the last dimension; dimensions of size 1 in the
            // constant (and missing leading ones) repeat it.
            long rest = f;
            long index = 0;
            long stride = 1;
            for (int d = rank - 1; d >= 0; d--) {
                long coordinate = rest % target[d];
                rest /= target[d];
                int dc = d - offset;
                if (dc >= 0) {
                    long size = dims.get(dc);
                    index += (size == 1 ? 0 : coordinate) * stride;
                    stride *= size;
                }
            }
            out[f] = values[(int) index];
        }
        return out;
    }

    /** The product of the dimensions, Long.MAX_VALUE on overflow (never equal to a real size). */
    private static long product(long[] dims) {
        long p = 1;
        for (long d : dims) {
            try {
                p = Math.multiplyExact(p, d);
            } catch (ArithmeticException e) {
                return Long.MAX_VALUE;
            }
        }
        return p;
    }

    // ---------------------------------------------------------------- attributes and errors

    private static long intAttribute(NodeProto node, String name, long fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }

    private static double floatAttribute(NodeProto node, String name, double fallback) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getF();
            }
        }
        return fallback;
    }

    private OnnxImportException unsupported(NodeProto node, int k, String what) {
        return error(
                node, k, "has " + what + ", which is not supported; supported: " + SUPPORTED_OPS);
    }

    private OnnxImportException error(NodeProto node, int k, String message) {
        return new OnnxImportException(source + ": " + describe(node, k) + " " + message);
    }

    private static String describe(NodeProto node, int k) {
        String name =
                node.getName().isEmpty()
                        ? "#" + k + " (unnamed" + outputs(node) + ")"
                        : "'" + node.getName() + "' (#" + k + ")";
        return "node " + name + " of op type " + node.getOpType();
    }

    private static String outputs(NodeProto node) {
        return node.getOutputCount() == 0 ? "" : ", output '" + node.getOutput(0) + "'";
    }
}
