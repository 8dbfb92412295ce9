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

import java.util.Arrays;
import java.util.List;

/**
 * The bound of one output row over one subdomain with optimised relaxations: alpha-CROWN's lower
 * ReLU slopes (Xu et al. 2021, "Fast and Complete: Enabling Complete Neural Network Verification
 * with Rapid and Massively Parallel Incomplete Verifiers") and beta-CROWN's split multipliers (Wang
 * et al. 2021, "Beta-CROWN", eq. 7).
 *
 * <p><b>Alpha.</b> An unstable ReLU (l &lt; 0 &lt; u) satisfies h &gt;= alpha z for every alpha in
 * [0, 1], so any such slope gives a sound lower line; CROWN fixes alpha to 0 or 1, here it is
 * optimised per neuron for the row. <b>Beta.</b> For every decision z_k &gt;= 0 (active) the row
 * gets -beta_k z_k, for z_k &lt;= 0 (inactive) +beta_k z_k, beta &gt;= 0: on the subdomain these
 * terms are &lt;= 0, so the minimum over the input box of the augmented row is a lower bound of the
 * row over the subdomain, and the decisions cut the input box.
 *
 * <p>For fixed lines the back-substituted bound is the relaxed network (each unstable ReLU replaced
 * by its chosen line, the beta terms added) evaluated at the minimising input corner x*; its
 * supergradient is a_k z_k(x*) for the slope of a neuron whose coefficient a_k took the lower line,
 * and -sign_k z_k(x*) for a split multiplier, z(x*) from running the relaxed network forward. Alpha
 * takes Adam steps projected to [0, 1], beta Polyak steps towards the level where the row is
 * proved. The optimiser runs unguarded; every bound it returns is recomputed with the rounding
 * guard of {@link CrownPropagator} (slopes in [0, 1] and the beta terms' beta_k G_k keep its
 * lemma), so soundness never depends on the optimiser.
 */
public final class AlphaBetaCrown {
    /** Adam's step on the slopes, as in alpha-CROWN. */
    private static final double ALPHA_LEARNING_RATE = 0.1;

    private final Network network;
    private final List<Layer> layers;
    private final CrownPropagator crown;

    public AlphaBetaCrown(Network network) {
        this.network = network;
        this.layers = network.layers();
        this.crown = new CrownPropagator(network);
    }

    /**
     * The optimiser's variables for one row on one subdomain, carried from a parent subdomain to
     * its children as a warm start.
     */
    public static final class Multipliers {
        /** Lower slopes, [ReLU layer index][neuron]; null rows start at CROWN's choice. */
        final double[][] alpha;

        /** Split multipliers, [layer whose output is split][neuron]; null rows are zero. */
        final double[][] beta;

        private Multipliers(double[][] alpha, double[][] beta) {
            this.alpha = alpha;
            this.beta = beta;
        }

        /** CROWN's slopes and no split multipliers. */
        public static Multipliers initial(Network network) {
            int n = network.layers().size();
            return new Multipliers(new double[n][], new double[n][]);
        }

        /** A deep copy with a zero multiplier row for the outputs of {@code layer}. */
        Multipliers withBetaRow(int layer, int width) {
            Multipliers copy = copy();
            if (copy.beta[layer] == null) {
                copy.beta[layer] = new double[width];
            }
            return copy;
        }

        Multipliers copy() {
            return new Multipliers(deepCopy(alpha), deepCopy(beta));
        }

        private static double[][] deepCopy(double[][] rows) {
            double[][] copy = new double[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                copy[i] = rows[i] == null ? null : rows[i].clone();
            }
            return copy;
        }
    }

    /**
     * The best guarded bound found, the variables that gave it (a warm start for children), and the
     * input corner that minimised the relaxed row there: a candidate counterexample for the caller
     * to check on the real network.
     */
    public record Optimised(
            double bound,
            Multipliers multipliers,
            double[] minimiser,
            double[][] reluCoefficients) {}

    /** One evaluation: the guarded bound and supergradients. */
    private record Evaluation(
            double bound,
            double[] minimiser,
            double[][] alphaGradient,
            double[][] betaGradient,
            double[][] reluCoefficients) {}

    /**
     * The best guarded lower bound of {@code row}'s c . y over the subdomain found within {@code
     * iterations} steps, starting from {@code start} (not modified). Stops early once the bound
     * exceeds {@code row.bound()}.
     *
     * @param reluInputs {lower, upper} of each ReLU's input on this subdomain, decisions included
     */
    public Optimised optimise(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            LinearConstraint row,
            Multipliers start,
            int iterations) {
        return optimise(
                box,
                reluInputs,
                splits,
                row,
                start,
                iterations,
                crown.magnitudes(box.lower(), box.upper()));
    }

    /**
     * As {@link #optimise(Box, List, Splits, LinearConstraint, Multipliers, int)} with the box's
     * magnitudes ({@link CrownPropagator#magnitudes}) computed once by the caller, who bounds many
     * subdomains of the same box.
     */
    public Optimised optimise(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            LinearConstraint row,
            Multipliers start,
            int iterations,
            double[][] magnitude) {
        return optimise(
                box,
                reluInputs,
                splits,
                row.coefficients(),
                row.bound(),
                layers.size() - 1,
                start,
                iterations,
                magnitude);
    }

    /**
     * Tightens the input bounds of every ReLU layer after the first by optimised slopes (alpha-
     * CROWN on intermediate neurons, Xu et al. 2021): for each neuron the box leaves unstable, a
     * lower bound of z_k and of -z_k, each with its own slopes, layer by layer so that later layers
     * relax the tightened earlier ones. Returns new bounds, each intersected with the given ones;
     * stops refining at {@code deadlineNanos}.
     */
    public List<double[][]> refineIntermediate(
            Box box, List<double[][]> reluInputs, int iterations, long deadlineNanos) {
        double[][] magnitude = crown.magnitudes(box.lower(), box.upper());
        List<double[][]> refined = new java.util.ArrayList<>();
        for (double[][] b : reluInputs) {
            refined.add(new double[][] {b[0].clone(), b[1].clone()});
        }
        int relu = 0;
        for (int i = 1; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof ReluLayer)) {
                continue;
            }
            double[][] b = refined.get(relu++);
            if (relu == 1) {
                continue; // the first ReLU's inputs: box bounds are exact there
            }
            int source = i - 1;
            for (int k = 0; k < b[0].length; k++) {
                if (!(b[0][k] < 0 && b[1][k] > 0) || System.nanoTime() > deadlineNanos) {
                    continue;
                }
                // A lower bound of z_k (sign 1) and of -z_k (sign -1); stop as soon as the
                // neuron is stable: then its bounds no longer matter.
                for (int sign = 1; sign >= -1; sign -= 2) {
                    double[] unit = new double[b[0].length];
                    unit[k] = sign;
                    double bound =
                            optimise(
                                            box,
                                            refined,
                                            Splits.NONE,
                                            unit,
                                            0,
                                            source,
                                            Multipliers.initial(network),
                                            iterations,
                                            magnitude)
                                    .bound();
                    if (sign > 0) {
                        b[0][k] = Math.max(b[0][k], bound);
                    } else {
                        b[1][k] = Math.min(b[1][k], -bound);
                    }
                }
            }
        }
        return refined;
    }

    private Optimised optimise(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            double[] rowCoefficients,
            double rowBound,
            int top,
            Multipliers start,
            int iterations,
            double[][] magnitude) {
        Multipliers current = start.copy();
        initialiseAlpha(reluInputs, current);
        Multipliers bestMultipliers = null;
        int n = layers.size();
        double[][] m = new double[n][];
        double[][] v = new double[n][];
        Evaluation best = null;
        for (int t = 0; t <= iterations; t++) {
            Evaluation e =
                    evaluate(box, reluInputs, splits, rowCoefficients, top, current, magnitude);
            if (best == null || e.bound() > best.bound()) {
                best = e;
                bestMultipliers = current.copy();
            }
            if (best.bound() > rowBound || t == iterations) {
                break;
            }
            adamStep(current.alpha, e.alphaGradient(), m, v, t + 1);
            polyakStep(current.beta, e.betaGradient(), e.bound(), rowBound);
        }
        return new Optimised(
                best.bound(), bestMultipliers, best.minimiser(), best.reluCoefficients());
    }

    /** Unset slope rows start at CROWN's adaptive choice: 1 when u &gt; -l, else 0. */
    private void initialiseAlpha(List<double[][]> reluInputs, Multipliers start) {
        int relu = 0;
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof ReluLayer) {
                double[][] in = reluInputs.get(relu++);
                if (start.alpha[i] == null) {
                    double[] a = new double[in[0].length];
                    for (int k = 0; k < a.length; k++) {
                        a[k] = in[1][k] > -in[0][k] ? 1 : 0;
                    }
                    start.alpha[i] = a;
                }
            }
        }
    }

    private static void adamStep(
            double[][] alpha, double[][] gradient, double[][] m, double[][] v, int t) {
        double correction1 = 1 - Math.pow(0.9, t);
        double correction2 = 1 - Math.pow(0.999, t);
        for (int i = 0; i < alpha.length; i++) {
            if (alpha[i] == null || gradient[i] == null) {
                continue;
            }
            if (m[i] == null) {
                m[i] = new double[alpha[i].length];
                v[i] = new double[alpha[i].length];
            }
            for (int k = 0; k < alpha[i].length; k++) {
                double g = gradient[i][k];
                m[i][k] = 0.9 * m[i][k] + 0.1 * g;
                v[i][k] = 0.999 * v[i][k] + 0.001 * g * g;
                double step =
                        ALPHA_LEARNING_RATE
                                * (m[i][k] / correction1)
                                / (Math.sqrt(v[i][k] / correction2) + 1e-12);
                // Ascent on the bound, projected back to the slopes that keep the line sound.
                alpha[i][k] = Math.min(1, Math.max(0, alpha[i][k] + step));
            }
        }
    }

    /** Polyak's step towards a level a little above the row's bound, projected to beta &gt;= 0. */
    private static void polyakStep(
            double[][] beta, double[][] gradient, double bound, double rowBound) {
        double norm = 0;
        for (double[] g : gradient) {
            if (g != null) {
                for (double x : g) {
                    norm += x * x;
                }
            }
        }
        if (norm == 0) {
            return;
        }
        double target = rowBound + 1e-3 * (1 + Math.abs(rowBound));
        double step = Math.max(target - bound, 0) / norm;
        for (int i = 0; i < beta.length; i++) {
            if (beta[i] != null && gradient[i] != null) {
                for (int k = 0; k < beta[i].length; k++) {
                    beta[i][k] = Math.max(0, beta[i][k] + step * gradient[i][k]);
                }
            }
        }
    }

    /** The row c . (output of layer {@code top}) bounded with the given slopes and multipliers. */
    private Evaluation evaluate(
            Box box,
            List<double[][]> reluInputs,
            Splits splits,
            double[] rowCoefficients,
            int top,
            Multipliers multipliers,
            double[][] magnitude) {
        int n = layers.size();
        double[] a = rowCoefficients.clone();
        double constant = 0;
        double betaMagnitude = 0;
        // Chosen lines per ReLU layer: slope and intercept per neuron; which took the lower line.
        double[][] slope = new double[n][];
        double[][] intercept = new double[n][];
        double[][] lowerLineCoefficient = new double[n][];
        double[][] reluCoefficients = new double[n][];
        double[][] beta = multipliers.beta;
        int relu = 0;
        for (int i = 0; i <= top; i++) {
            if (layers.get(i) instanceof ReluLayer) {
                relu++;
            }
        }
        for (int i = top; i >= 0; i--) {
            Layer layer = layers.get(i);
            if (layer instanceof ReluLayer) {
                relu--;
                double[][] in = reluInputs.get(relu);
                double[] alpha = multipliers.alpha[i];
                reluCoefficients[i] = a;
                int width = a.length;
                slope[i] = new double[width];
                intercept[i] = new double[width];
                lowerLineCoefficient[i] = new double[width];
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
                        // Any slope in [0, 1] is a sound lower line; clamp against drift.
                        s = Math.min(1, Math.max(0, alpha[k]));
                        lowerLineCoefficient[i][k] = a[k];
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
                if (source >= 0 && beta[source] != null) {
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
                throw new IllegalArgumentException("no alpha-beta bounds for " + layer);
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
        for (int k = 0; k < rowCoefficients.length; k++) {
            rowMagnitude += Math.abs(rowCoefficients[k]) * magnitude[top][k];
        }
        double guarded = value - crown.roundingFactor() * rowMagnitude;

        // The relaxed network forward from x: the pre-activations at the minimiser.
        double[][] alphaGradient = new double[n][];
        double[][] betaGradient = new double[n][];
        double[] h = x;
        for (int i = 0; i <= top; i++) {
            Layer layer = layers.get(i);
            double[] next;
            if (layer instanceof ReluLayer) {
                alphaGradient[i] = new double[h.length];
                next = new double[h.length];
                for (int k = 0; k < h.length; k++) {
                    alphaGradient[i][k] = lowerLineCoefficient[i][k] * h[k];
                    next[k] = slope[i][k] * h[k] + intercept[i][k];
                }
            } else {
                next = layer.forward(h);
            }
            if (beta[i] != null) {
                betaGradient[i] = new double[next.length];
                for (int k = 0; k < next.length; k++) {
                    betaGradient[i][k] = -splits.sign(i, k) * next[k];
                }
            }
            h = next;
        }
        return new Evaluation(
                guarded, Arrays.copyOf(x, x.length), alphaGradient, betaGradient, reluCoefficients);
    }
}
