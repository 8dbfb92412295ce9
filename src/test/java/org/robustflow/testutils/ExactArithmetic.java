package org.robustflow.testutils;

import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;

/**
 * Exact reference arithmetic for bound tests: every double is converted to its exact {@link
 * BigDecimal} value and sums and products are computed without rounding, so a bound computed in
 * double can be compared with the true value it must contain.
 *
 * <p>Two references: exact interval bound propagation (the box every sound box implementation must
 * contain) and, for networks whose ReLUs are all active on the box, the exact range of the affine
 * map the network then is (which CROWN, exact on such networks, must contain and nearly reach).
 */
public final class ExactArithmetic {
    private ExactArithmetic() {}

    /** The exact value of a double. */
    public static BigDecimal exact(double v) {
        return new BigDecimal(v);
    }

    /** Exact values of an array. */
    public static BigDecimal[] exact(double[] v) {
        BigDecimal[] out = new BigDecimal[v.length];
        for (int k = 0; k < v.length; k++) {
            out[k] = new BigDecimal(v[k]);
        }
        return out;
    }

    /**
     * Exact interval bounds {lower, upper} of W h + b for h in [lower, upper]: positive weights
     * take the lower bound to the lower bound, negative ones the upper bound.
     */
    public static BigDecimal[][] affine(DenseLayer layer, BigDecimal[] lower, BigDecimal[] upper) {
        BigDecimal[] lo = new BigDecimal[layer.outputSize()];
        BigDecimal[] hi = new BigDecimal[layer.outputSize()];
        for (int o = 0; o < lo.length; o++) {
            BigDecimal a = exact(layer.bias(o));
            BigDecimal b = a;
            for (int i = 0; i < layer.inputSize(); i++) {
                double w = layer.weight(o, i);
                if (w == 0) {
                    continue;
                }
                BigDecimal ew = exact(w);
                if (w > 0) {
                    a = a.add(ew.multiply(lower[i]));
                    b = b.add(ew.multiply(upper[i]));
                } else {
                    a = a.add(ew.multiply(upper[i]));
                    b = b.add(ew.multiply(lower[i]));
                }
            }
            lo[o] = a;
            hi[o] = b;
        }
        return new BigDecimal[][] {lo, hi};
    }

    /**
     * Exact interval bounds of every dense layer's pre-activation for inputs in [lower, upper]:
     * list of {lower, upper}, the last bounding the logits.
     */
    public static List<BigDecimal[][]> preActivations(Network mlp, double[] lower, double[] upper) {
        return preActivations(mlp, exact(lower), exact(upper));
    }

    /** As {@link #preActivations(Network, double[], double[])} for an exact input box. */
    public static List<BigDecimal[][]> preActivations(
            Network mlp, BigDecimal[] lower, BigDecimal[] upper) {
        List<BigDecimal[][]> out = new ArrayList<>();
        BigDecimal[] lo = lower;
        BigDecimal[] hi = upper;
        List<DenseLayer> layers = mlp.denseLayers();
        for (int l = 0; l < layers.size(); l++) {
            BigDecimal[][] z = affine(layers.get(l), lo, hi);
            out.add(z);
            lo = new BigDecimal[z[0].length];
            hi = new BigDecimal[z[0].length];
            for (int k = 0; k < lo.length; k++) {
                lo[k] = z[0][k].max(BigDecimal.ZERO);
                hi[k] = z[1][k].max(BigDecimal.ZERO);
            }
        }
        return out;
    }

    /**
     * The affine map of the first {@code layers} dense layers with the ReLUs between them taken as
     * the identity (valid where every ReLU is active): {A [out][in], c [out]} exactly.
     */
    public static BigDecimal[][][] composedAffine(Network mlp, int layers) {
        List<DenseLayer> dense = mlp.denseLayers();
        int in = mlp.inputSize();
        BigDecimal[][] a = new BigDecimal[in][in];
        BigDecimal[] c = new BigDecimal[in];
        for (int i = 0; i < in; i++) {
            for (int k = 0; k < in; k++) {
                a[i][k] = i == k ? BigDecimal.ONE : BigDecimal.ZERO;
            }
            c[i] = BigDecimal.ZERO;
        }
        for (int l = 0; l < layers; l++) {
            DenseLayer layer = dense.get(l);
            BigDecimal[][] na = new BigDecimal[layer.outputSize()][in];
            BigDecimal[] nc = new BigDecimal[layer.outputSize()];
            for (int o = 0; o < layer.outputSize(); o++) {
                BigDecimal constant = exact(layer.bias(o));
                for (int m = 0; m < layer.inputSize(); m++) {
                    constant = constant.add(exact(layer.weight(o, m)).multiply(c[m]));
                }
                nc[o] = constant;
                for (int k = 0; k < in; k++) {
                    BigDecimal sum = BigDecimal.ZERO;
                    for (int m = 0; m < layer.inputSize(); m++) {
                        sum = sum.add(exact(layer.weight(o, m)).multiply(a[m][k]));
                    }
                    na[o][k] = sum;
                }
            }
            a = na;
            c = nc;
        }
        return new BigDecimal[][][] {a, new BigDecimal[][] {c}};
    }

    /** The exact minimum of coefficients . h + constant over the box [lower, upper]. */
    public static BigDecimal minimum(
            BigDecimal[] coefficients, BigDecimal constant, double[] lower, double[] upper) {
        BigDecimal sum = constant;
        for (int k = 0; k < coefficients.length; k++) {
            BigDecimal corner = coefficients[k].signum() >= 0 ? exact(lower[k]) : exact(upper[k]);
            sum = sum.add(coefficients[k].multiply(corner));
        }
        return sum;
    }

    /** The exact maximum of coefficients . h + constant over the box [lower, upper]. */
    public static BigDecimal maximum(
            BigDecimal[] coefficients, BigDecimal constant, double[] lower, double[] upper) {
        BigDecimal sum = constant;
        for (int k = 0; k < coefficients.length; k++) {
            BigDecimal corner = coefficients[k].signum() >= 0 ? exact(upper[k]) : exact(lower[k]);
            sum = sum.add(coefficients[k].multiply(corner));
        }
        return sum;
    }
}
