package org.robustflow.testutils;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;

import java.util.ArrayList;
import java.util.List;

/**
 * An independent box-bound implementation to check the production one against: plain Java, one
 * point at a time, in the lower/upper form (positive weights take the lower bound to the lower
 * bound, negative weights the upper bound), with no rounding guard.
 */
public final class ReferenceIntervalPropagation {
    private ReferenceIntervalPropagation() {}

    /** Pre-activation bounds per dense layer: list of {lower, upper}. */
    public static List<double[][]> preActivations(Network mlp, double[] lower, double[] upper) {
        List<double[][]> result = new ArrayList<>();
        double[] lo = lower;
        double[] hi = upper;
        List<DenseLayer> layers = mlp.denseLayers();
        for (int l = 0; l < layers.size(); l++) {
            DenseLayer layer = layers.get(l);
            double[] nlo = new double[layer.outputSize()];
            double[] nhi = new double[layer.outputSize()];
            for (int o = 0; o < layer.outputSize(); o++) {
                double a = layer.bias(o);
                double b = layer.bias(o);
                for (int i = 0; i < layer.inputSize(); i++) {
                    double w = layer.weight(o, i);
                    if (w >= 0) {
                        a += w * lo[i];
                        b += w * hi[i];
                    } else {
                        a += w * hi[i];
                        b += w * lo[i];
                    }
                }
                nlo[o] = a;
                nhi[o] = b;
            }
            result.add(new double[][] {nlo, nhi});
            lo = new double[nlo.length];
            hi = new double[nhi.length];
            for (int k = 0; k < nlo.length; k++) {
                lo[k] = Math.max(0, nlo[k]);
                hi[k] = Math.max(0, nhi[k]);
            }
        }
        return result;
    }
}
