package org.robustflow.bab;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Splits;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;

import java.util.List;

/**
 * Split constraints as Lagrangian terms in the bound of one output row over one subdomain
 * (beta-CROWN, Wang et al. 2021, "Beta-CROWN: Efficient Bound Propagation with Per-neuron Split
 * Constraints", eq. 7): for every decision z_k &gt;= 0 (active) the row gets -beta_k z_k, for z_k
 * &lt;= 0 (inactive) +beta_k z_k, beta &gt;= 0. On the subdomain these terms are &lt;= 0, so for
 * any beta the minimum over the input box of the augmented row is a lower bound of the row over the
 * subdomain: the decisions now cut the input box instead of only tightening relaxations.
 *
 * <p>The bound is concave in beta (a minimum of functions affine in beta over the relaxation
 * polytope), with supergradient s_k z_k at the minimising point of the polytope, found by running
 * the relaxed network (each unstable ReLU replaced by the line the back-substitution chose) forward
 * from the minimising input corner. Beta is raised by Polyak steps towards the level where the row
 * is proved. The optimiser runs unguarded; the returned bound is recomputed with the same rounding
 * guard as {@link org.robustflow.bounds.CrownPropagator} (the beta terms add beta_k G_k to the
 * row's magnitude), so its soundness does not depend on the optimiser.
 */
final class BetaCrown {
    private final Network network;
    private final List<Layer> layers;
    private final CrownPropagator crown;

    BetaCrown(Network network) {
        this.network = network;
        this.layers = network.layers();
        this.crown = new CrownPropagator(network);
    }

    /** One evaluation: the guarded bound and a supergradient per split neuron. */
    private record Evaluation(double bound, double[][] supergradient) {}

    /**
     * The best guarded lower bound of {@code row}'s c . y over the subdomain found within {@code
     * iterations} steps, starting from {@code beta} (updated in place; [layer][neuron], null rows
     * for layers without decisions). Stops early once the bound exceeds {@code row.bound()}.
     *
     * @param reluInputs {lower, upper} of each ReLU's input on this subdomain, decisions included
     */
    double optimise(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            LinearConstraint row,
            double[][] beta,
            int iterations) {
        double[][] magnitude = crown.magnitudes(box.lower(), box.upper());
        double best = Double.NEGATIVE_INFINITY;
        for (int t = 0; t <= iterations; t++) {
            Evaluation e = evaluate(box, reluInputs, splits, row, beta, magnitude);
            best = Math.max(best, e.bound());
            if (best > row.bound() || t == iterations) {
                break;
            }
            double norm = 0;
            for (double[] g : e.supergradient()) {
                if (g != null) {
                    for (double v : g) {
                        norm += v * v;
                    }
                }
            }
            if (norm == 0) {
                break;
            }
            // Polyak's step towards a level a little above the row's bound.
            double target = row.bound() + 1e-3 * (1 + Math.abs(row.bound()));
            double step = Math.max(target - e.bound(), 0) / norm;
            for (int i = 0; i < beta.length; i++) {
                if (beta[i] != null && e.supergradient()[i] != null) {
                    for (int k = 0; k < beta[i].length; k++) {
                        beta[i][k] = Math.max(0, beta[i][k] + step * e.supergradient()[i][k]);
                    }
                }
            }
        }
        return best;
    }

    private Evaluation evaluate(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            LinearConstraint row,
            double[][] beta,
            double[][] magnitude) {
        int n = layers.size();
        double[] a = row.coefficients();
        double constant = 0;
        double betaMagnitude = 0;
        // Chosen lines per ReLU layer: slope and intercept per neuron.
        double[][] slope = new double[n][];
        double[][] intercept = new double[n][];
        int relu = reluInputs.size();
        for (int i = n - 1; i >= 0; i--) {
            Layer layer = layers.get(i);
            if (layer instanceof ReluLayer) {
                relu--;
                double[][] in = reluInputs.get(relu);
                int width = a.length;
                slope[i] = new double[width];
                intercept[i] = new double[width];
                double[] down = new double[width];
                for (int k = 0; k < width; k++) {
                    double l = in[0][k];
                    double u = in[1][k];
                    double s;
                    double c = 0;
                    if (l >= 0) {
                        s = 1;
                    } else if (u <= 0) {
                        s = 0;
                    } else if (a[k] >= 0) {
                        s = u > -l ? 1 : 0; // lower line through the origin
                    } else {
                        s = u / (u - l); // upper line
                        c = -s * l;
                    }
                    slope[i][k] = s;
                    intercept[i][k] = c;
                    down[k] = a[k] * s;
                    constant += a[k] * c;
                }
                a = down;
                // The decisions are on this ReLU's input, the output of layer i - 1.
                int source = i - 1;
                if (source >= 0 && source < beta.length && beta[source] != null) {
                    for (int k = 0; k < a.length; k++) {
                        int sign = splits.sign(source, k);
                        if (sign != 0) {
                            // active (z >= 0): -beta z; inactive (z <= 0): +beta z
                            a[k] -= sign * beta[source][k];
                            betaMagnitude += beta[source][k] * magnitude[source][k];
                        }
                    }
                }
            } else if (layer instanceof DenseLayer dense) {
                double[] down = new double[dense.inputSize()];
                for (int o = 0; o < dense.outputSize(); o++) {
                    double ao = a[o];
                    if (ao != 0) {
                        constant += ao * dense.bias(o);
                        for (int k = 0; k < down.length; k++) {
                            down[k] += ao * dense.weight(o, k);
                        }
                    }
                }
                a = down;
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                double[] down = new double[a.length];
                for (int k = 0; k < a.length; k++) {
                    down[k] = a[k] * affine.scale(k);
                    constant += a[k] * affine.shift(k);
                }
                a = down;
            } else {
                throw new IllegalArgumentException("no beta bounds for " + layer);
            }
        }
        // Concretise at the minimising corner.
        double[] x = new double[a.length];
        double value = constant;
        for (int k = 0; k < a.length; k++) {
            x[k] = a[k] > 0 ? box.lower(k) : box.upper(k);
            value += a[k] * x[k];
        }
        double rowMagnitude = betaMagnitude;
        for (int k = 0; k < network.numClasses(); k++) {
            rowMagnitude += Math.abs(row.coefficient(k)) * magnitude[n - 1][k];
        }
        double guarded = value - crown.roundingFactor() * rowMagnitude;

        // The relaxed network forward from x: the pre-activations at the minimiser.
        double[][] gradient = new double[beta.length][];
        double[] h = x;
        for (int i = 0; i < n; i++) {
            Layer layer = layers.get(i);
            double[] next;
            if (layer instanceof ReluLayer) {
                next = new double[h.length];
                for (int k = 0; k < h.length; k++) {
                    next[k] = slope[i][k] * h[k] + intercept[i][k];
                }
            } else {
                next = layer.forward(h);
            }
            if (i < beta.length && beta[i] != null) {
                gradient[i] = new double[next.length];
                for (int k = 0; k < next.length; k++) {
                    gradient[i][k] = -splits.sign(i, k) * next[k];
                }
            }
            h = next;
        }
        return new Evaluation(guarded, gradient);
    }
}
