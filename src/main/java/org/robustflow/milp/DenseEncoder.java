package org.robustflow.milp;

import org.robustflow.model.DenseLayer;

import java.util.ArrayList;
import java.util.List;

/** y = W x + b as one equality row per output (exact: no relaxation, no big-M). */
public final class DenseEncoder implements LayerEncoder {
    private final DenseLayer layer;

    public DenseEncoder(DenseLayer layer) {
        this.layer = layer;
    }

    @Override
    public List<Encoders.Bounded> encode(
            Encoders encoders, List<Encoders.Bounded> in, double[][] out, String name) {
        List<Encoders.Bounded> y = new ArrayList<>(layer.outputSize());
        double[] w = new double[layer.inputSize()];
        for (int o = 0; o < layer.outputSize(); o++) {
            for (int i = 0; i < w.length; i++) {
                w[i] = layer.weight(o, i);
            }
            y.add(encoders.affine(in, w, layer.bias(o), out[0][o], out[1][o], name + "_" + o));
        }
        return y;
    }
}
