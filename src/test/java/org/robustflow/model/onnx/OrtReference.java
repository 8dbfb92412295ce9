package org.robustflow.model.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import org.robustflow.model.onnx.proto.Onnx.GraphProto;
import org.robustflow.model.onnx.proto.Onnx.ModelProto;
import org.robustflow.model.onnx.proto.Onnx.NodeProto;
import org.robustflow.model.onnx.proto.Onnx.TensorProto;
import org.robustflow.model.onnx.proto.Onnx.ValueInfoProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.util.Map;

/**
 * The independent evaluation of an ONNX model: onnxruntime's CPU provider, in float32 on the file
 * as it is, or in float64 on the same graph with every float32 tensor widened exactly to float64
 * (and the value types with it), so that the comparison with our double forward pass is not drowned
 * in float32 rounding.
 */
final class OrtReference implements AutoCloseable {
    private final OrtEnvironment env = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final String inputName;
    private final long[] inputShape;
    private final boolean float64;

    OrtReference(ModelProto model, long[] inputShape, boolean float64) throws OrtException {
        ModelProto m = float64 ? widen(model) : model;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            this.session = env.createSession(m.toByteArray(), options);
        }
        this.inputName = session.getInputNames().iterator().next();
        this.inputShape = inputShape;
        this.float64 = float64;
    }

    /** The model's (flat) output for one (flat) input. */
    double[] run(double[] x) throws OrtException {
        OnnxTensor tensor;
        if (float64) {
            tensor = OnnxTensor.createTensor(env, DoubleBuffer.wrap(x), inputShape);
        } else {
            float[] f = new float[x.length];
            for (int i = 0; i < x.length; i++) {
                f[i] = (float) x[i];
            }
            tensor = OnnxTensor.createTensor(env, FloatBuffer.wrap(f), inputShape);
        }
        try (tensor;
                OrtSession.Result result = session.run(Map.of(inputName, tensor))) {
            OnnxTensor out = (OnnxTensor) result.get(0);
            if (float64) {
                DoubleBuffer b = out.getDoubleBuffer();
                double[] y = new double[b.remaining()];
                b.get(y);
                return y;
            }
            FloatBuffer b = out.getFloatBuffer();
            double[] y = new double[b.remaining()];
            for (int i = 0; i < y.length; i++) {
                y[i] = b.get();
            }
            return y;
        }
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }

    /** The same model with float32 tensors and value types turned into float64, exactly. */
    static ModelProto widen(ModelProto model) {
        GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            g.setInitializer(i, widen(g.getInitializer(i)));
        }
        for (int i = 0; i < g.getNodeCount(); i++) {
            NodeProto.Builder n = g.getNode(i).toBuilder();
            for (int a = 0; a < n.getAttributeCount(); a++) {
                if (n.getAttribute(a).hasT()) {
                    n.setAttribute(
                            a, n.getAttribute(a).toBuilder().setT(widen(n.getAttribute(a).getT())));
                }
            }
            g.setNode(i, n);
        }
        for (int i = 0; i < g.getInputCount(); i++) {
            g.setInput(i, widen(g.getInput(i)));
        }
        for (int i = 0; i < g.getOutputCount(); i++) {
            g.setOutput(i, widen(g.getOutput(i)));
        }
        for (int i = 0; i < g.getValueInfoCount(); i++) {
            g.setValueInfo(i, widen(g.getValueInfo(i)));
        }
        return model.toBuilder().setGraph(g).build();
    }

    private static ValueInfoProto widen(ValueInfoProto v) {
        if (v.getType().getTensorType().getElemType() != TensorProto.DataType.FLOAT_VALUE) {
            return v;
        }
        ValueInfoProto.Builder b = v.toBuilder();
        b.getTypeBuilder().getTensorTypeBuilder().setElemType(TensorProto.DataType.DOUBLE_VALUE);
        return b.build();
    }

    private static TensorProto widen(TensorProto t) {
        if (t.getDataType() != TensorProto.DataType.FLOAT_VALUE) {
            return t;
        }
        float[] values;
        if (!t.getRawData().isEmpty()) {
            FloatBuffer fb =
                    t.getRawData()
                            .asReadOnlyByteBuffer()
                            .order(ByteOrder.LITTLE_ENDIAN)
                            .asFloatBuffer();
            values = new float[fb.remaining()];
            fb.get(values);
        } else {
            values = new float[t.getFloatDataCount()];
            for (int i = 0; i < values.length; i++) {
                values[i] = t.getFloatData(i);
            }
        }
        ByteBuffer raw = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putDouble(v);
        }
        return t.toBuilder()
                .clearFloatData()
                .setDataType(TensorProto.DataType.DOUBLE_VALUE)
                .setRawData(ByteString.copyFrom(raw.array()))
                .build();
    }
}
