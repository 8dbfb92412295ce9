package org.robustflow.milp;

import org.robustflow.model.ElementwiseAffineLayer;

import java.util.ArrayList;
import java.util.List;

/** y_i = scale_i x_i + shift_i (input normalisation) as one equality row per coordinate. */
public final class ElementwiseAffineEncoder implements LayerEncoder {
    private final ElementwiseAffineLayer layer;

    public ElementwiseAffineEncoder(ElementwiseAffineLayer layer) {
        this.layer = layer;
    }

    @Override
    public List<Encoders.Bounded> encode(
            Encoders encoders, List<Encoders.Bounded> in, double[][] out, String name) {
        List<Encoders.Bounded> y = new ArrayList<>(in.size());
        for (int i = 0; i < in.size(); i++) {
            y.add(
                    encoders.affine(
                            List.of(in.get(i)),
                            new double[] {layer.scale(i)},
                            layer.shift(i),
                            out[0][i],
                            out[1][i],
                            name + "_" + i));
        }
        return y;
    }
}
