package org.robustflow.bab;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Matmul;
import org.robustflow.bounds.Splits;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

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
 *
 * <p><b>Threads.</b> Problems never share variables, so a batch is cut into {@code threads}
 * contiguous parts optimised side by side (the caller's thread takes the first). The cut depends
 * only on the batch size, so results do not depend on timing.
 */
public final class AlphaBetaCrown {
    /** Adam's step on the slopes, as in alpha-CROWN. */
    private static final double ALPHA_LEARNING_RATE = 0.1;

    /**
     * Shared by every optimiser with more than one thread; daemon threads, so a finished command
     * needs no shutdown. Parts beyond its size wait in its queue.
     */
    private static final ExecutorService WORKERS =
            Executors.newFixedThreadPool(
                    Math.max(1, Runtime.getRuntime().availableProcessors() - 1),
                    r -> {
                        Thread t = new Thread(r, "alpha-beta-crown-worker");
                        t.setDaemon(true);
                        return t;
                    });

    private final Network network;
    private final List<Layer> layers;
    private final CrownPropagator crown;
    private final int threads;

    /** One thread: the caller's. */
    public AlphaBetaCrown(Network network) {
        this(network, 1);
    }

    /** Batches of at least two problems are split over {@code threads} threads. */
    public AlphaBetaCrown(Network network, int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, was " + threads);
        }
        this.network = network;
        this.layers = network.layers();
        this.crown = new CrownPropagator(network);
        this.threads = threads;
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
     * One row to bound on one subdomain.
     *
     * @param reluInputs {lower, upper} of each ReLU's input on the subdomain, decisions included
     * @param splits the subdomain's decisions
     * @param row the output constraint whose c . y is bounded
     * @param start the optimiser's start (not modified)
     */
    public record Problem(
            List<double[][]> reluInputs, Splits splits, LinearConstraint row, Multipliers start) {}

    /**
     * A row c . (output of layer {@code top}) to bound, proved once its bound exceeds {@code goal}.
     */
    private record Query(
            List<double[][]> reluInputs,
            Splits splits,
            double[] coefficients,
            double goal,
            Multipliers start) {}

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
        return optimiseAll(
                        box,
                        List.of(new Problem(reluInputs, splits, row, start)),
                        iterations,
                        magnitude)
                .get(0);
    }

    /**
     * {@link #optimise} for many subdomains of one box at once: every step bounds all rows still
     * short of their constraint with one matrix product per dense layer, forward and back. Each
     * result is what the problem would get alone (up to the order of summation).
     */
    public List<Optimised> optimiseAll(
            Box box, List<Problem> problems, int iterations, double[][] magnitude) {
        List<Query> queries = new ArrayList<>(problems.size());
        for (Problem p : problems) {
            queries.add(
                    new Query(
                            p.reluInputs(),
                            p.splits(),
                            p.row().coefficients(),
                            p.row().bound(),
                            p.start()));
        }
        return optimise(box, queries, layers.size() - 1, iterations, magnitude);
    }

    /**
     * Tightens the input bounds of every ReLU layer after the first by optimised slopes (alpha-
     * CROWN on intermediate neurons, Xu et al. 2021): for each neuron the box leaves unstable, a
     * lower bound of z_k and of -z_k, each with its own slopes, all neurons of a layer in one batch
     * and layer by layer, so that later layers relax the tightened earlier ones. Returns new
     * bounds, each intersected with the given ones; stops refining at {@code deadlineNanos}.
     */
    public List<double[][]> refineIntermediate(
            Box box, List<double[][]> reluInputs, int iterations, long deadlineNanos) {
        double[][] magnitude = crown.magnitudes(box.lower(), box.upper());
        List<double[][]> refined = new ArrayList<>();
        for (double[][] b : reluInputs) {
            refined.add(new double[][] {b[0].clone(), b[1].clone()});
        }
        int relu = 0;
        for (int i = 1; i < layers.size(); i++) {
            if (!(layers.get(i) instanceof ReluLayer)) {
                continue;
            }
            double[][] b = refined.get(relu++);
            if (relu == 1 || System.nanoTime() > deadlineNanos) {
                continue; // the first ReLU's inputs: box bounds are exact there
            }
            // A lower bound of z_k (sign 1) and of -z_k (sign -1) per unstable neuron; a neuron
            // stops as soon as it is stable (goal 0): then its bounds no longer matter.
            List<Query> queries = new ArrayList<>();
            List<int[]> target = new ArrayList<>();
            for (int k = 0; k < b[0].length; k++) {
                if (b[0][k] < 0 && b[1][k] > 0) {
                    for (int sign = 1; sign >= -1; sign -= 2) {
                        double[] unit = new double[b[0].length];
                        unit[k] = sign;
                        queries.add(
                                new Query(
                                        refined,
                                        Splits.NONE,
                                        unit,
                                        0,
                                        Multipliers.initial(network)));
                        target.add(new int[] {k, sign});
                    }
                }
            }
            List<Optimised> bounds = optimise(box, queries, i - 1, iterations, magnitude);
            for (int q = 0; q < queries.size(); q++) {
                int k = target.get(q)[0];
                double bound = bounds.get(q).bound();
                if (target.get(q)[1] > 0) {
                    b[0][k] = Math.max(b[0][k], bound);
                } else {
                    b[1][k] = Math.min(b[1][k], -bound);
                }
            }
        }
        return refined;
    }

    private List<Optimised> optimise(
            Box box, List<Query> queries, int top, int iterations, double[][] magnitude) {
        int parts = Math.min(threads, queries.size());
        if (parts <= 1) {
            return optimisePart(box, queries, top, iterations, magnitude);
        }
        List<Future<List<Optimised>>> others = new ArrayList<>();
        for (int p = 1; p < parts; p++) {
            List<Query> part = part(queries, p, parts);
            others.add(WORKERS.submit(() -> optimisePart(box, part, top, iterations, magnitude)));
        }
        List<Optimised> result =
                new ArrayList<>(
                        optimisePart(box, part(queries, 0, parts), top, iterations, magnitude));
        for (Future<List<Optimised>> f : others) {
            try {
                result.addAll(f.get());
            } catch (InterruptedException e) {
                others.forEach(o -> o.cancel(true));
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while optimising", e);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException(e.getCause());
            }
        }
        return result;
    }

    /** Part {@code p} of {@code parts} near-equal contiguous parts. */
    private static <T> List<T> part(List<T> all, int p, int parts) {
        return all.subList(all.size() * p / parts, all.size() * (p + 1) / parts);
    }

    private List<Optimised> optimisePart(
            Box box, List<Query> queries, int top, int iterations, double[][] magnitude) {
        int count = queries.size();
        Multipliers[] current = new Multipliers[count];
        Multipliers[] bestMultipliers = new Multipliers[count];
        double[][][] m = new double[count][layers.size()][];
        double[][][] v = new double[count][layers.size()][];
        Evaluation[] best = new Evaluation[count];
        for (int q = 0; q < count; q++) {
            current[q] = queries.get(q).start().copy();
            initialiseAlpha(queries.get(q).reluInputs(), current[q]);
        }
        List<Integer> active = new ArrayList<>();
        for (int q = 0; q < count; q++) {
            active.add(q);
        }
        for (int t = 0; t <= iterations && !active.isEmpty(); t++) {
            List<Query> batch = new ArrayList<>(active.size());
            Multipliers[] batchMultipliers = new Multipliers[active.size()];
            for (int j = 0; j < active.size(); j++) {
                batch.add(queries.get(active.get(j)));
                batchMultipliers[j] = current[active.get(j)];
            }
            Evaluation[] e = evaluate(box, batch, top, batchMultipliers, magnitude);
            List<Integer> next = new ArrayList<>();
            for (int j = 0; j < active.size(); j++) {
                int q = active.get(j);
                if (best[q] == null || e[j].bound() > best[q].bound()) {
                    best[q] = e[j];
                    bestMultipliers[q] = current[q].copy();
                }
                double goal = queries.get(q).goal();
                if (best[q].bound() > goal || t == iterations) {
                    continue;
                }
                adamStep(current[q].alpha, e[j].alphaGradient(), m[q], v[q], t + 1);
                polyakStep(current[q].beta, e[j].betaGradient(), e[j].bound(), goal);
                next.add(q);
            }
            active = next;
        }
        List<Optimised> result = new ArrayList<>(count);
        for (int q = 0; q < count; q++) {
            result.add(
                    new Optimised(
                            best[q].bound(),
                            bestMultipliers[q],
                            best[q].minimiser(),
                            best[q].reluCoefficients()));
        }
        return result;
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

    /**
     * Each query's row c . (output of layer {@code top}) bounded with its slopes and multipliers:
     * the rows of all queries stacked, one matrix product per dense layer back and forth.
     */
    private Evaluation[] evaluate(
            Box box,
            List<Query> queries,
            int top,
            Multipliers[] multipliers,
            double[][] magnitude) {
        int n = layers.size();
        int count = queries.size();
        int topWidth = layers.get(top).outputSize();
        double[] a = new double[count * topWidth];
        for (int q = 0; q < count; q++) {
            System.arraycopy(queries.get(q).coefficients(), 0, a, q * topWidth, topWidth);
        }
        double[] constant = new double[count];
        double[] betaMagnitude = new double[count];
        // Chosen lines per ReLU layer, [query * width + neuron]: slope and intercept; the
        // coefficient of the neurons that took the lower line; each query's row at the ReLU.
        double[][] slope = new double[n][];
        double[][] intercept = new double[n][];
        double[][] lowerLineCoefficient = new double[n][];
        double[][] reluCoefficients = new double[n][];
        int relu = 0;
        for (int i = 0; i <= top; i++) {
            if (layers.get(i) instanceof ReluLayer) {
                relu++;
            }
        }
        for (int i = top; i >= 0; i--) {
            Layer layer = layers.get(i);
            int width = layer.outputSize();
            if (layer instanceof ReluLayer) {
                relu--;
                reluCoefficients[i] = a;
                slope[i] = new double[a.length];
                intercept[i] = new double[a.length];
                lowerLineCoefficient[i] = new double[a.length];
                double[] down = new double[a.length];
                int source = i - 1;
                for (int q = 0; q < count; q++) {
                    double[][] in = queries.get(q).reluInputs().get(relu);
                    double[] alpha = multipliers[q].alpha[i];
                    double[] beta = source >= 0 ? multipliers[q].beta[source] : null;
                    Splits splits = queries.get(q).splits();
                    int base = q * width;
                    double c0 = 0;
                    for (int k = 0; k < width; k++) {
                        double ak = a[base + k];
                        double l = in[0][k];
                        double u = in[1][k];
                        double s;
                        double c = 0;
                        if (l >= 0) {
                            s = 1;
                        } else if (u <= 0) {
                            s = 0;
                        } else if (ak >= 0) {
                            // Any slope in [0, 1] is a sound lower line; clamp against drift.
                            s = Math.min(1, Math.max(0, alpha[k]));
                            lowerLineCoefficient[i][base + k] = ak;
                        } else {
                            s = u / (u - l); // upper line
                            c = -s * l;
                        }
                        slope[i][base + k] = s;
                        intercept[i][base + k] = c;
                        down[base + k] = ak * s;
                        c0 += ak * c;
                    }
                    constant[q] += c0;
                    // The decisions are on this ReLU's input, the output of layer i - 1.
                    if (beta != null) {
                        for (int k = 0; k < width; k++) {
                            int sign = splits.sign(source, k);
                            if (sign != 0) {
                                // active (z >= 0): -beta z; inactive (z <= 0): +beta z
                                down[base + k] -= sign * beta[k];
                                betaMagnitude[q] += beta[k] * magnitude[source][k];
                            }
                        }
                    }
                }
                a = down;
            } else if (layer instanceof DenseLayer dense) {
                for (int q = 0; q < count; q++) {
                    double c0 = 0;
                    for (int o = 0; o < width; o++) {
                        c0 += a[q * width + o] * dense.bias(o);
                    }
                    constant[q] += c0;
                }
                a = times(a, count, dense, true);
            } else if (layer instanceof ElementwiseAffineLayer affine) {
                double[] down = new double[a.length];
                for (int q = 0; q < count; q++) {
                    for (int k = 0; k < width; k++) {
                        down[q * width + k] = a[q * width + k] * affine.scale(k);
                        constant[q] += a[q * width + k] * affine.shift(k);
                    }
                }
                a = down;
            } else {
                throw new IllegalArgumentException("no alpha-beta bounds for " + layer);
            }
        }
        // Concretise each row at its minimising corner.
        int inputs = box.size();
        double[] x = new double[count * inputs];
        double[] guarded = new double[count];
        for (int q = 0; q < count; q++) {
            double value = constant[q];
            for (int k = 0; k < inputs; k++) {
                double ak = a[q * inputs + k];
                double xk = ak > 0 ? box.lower(k) : box.upper(k);
                x[q * inputs + k] = xk;
                value += ak * xk;
            }
            double rowMagnitude = betaMagnitude[q];
            double[] row = queries.get(q).coefficients();
            for (int k = 0; k < row.length; k++) {
                rowMagnitude += Math.abs(row[k]) * magnitude[top][k];
            }
            guarded[q] = value - crown.roundingFactor() * rowMagnitude;
        }

        // The relaxed networks forward from the minimisers: pre-activations there.
        double[][][] alphaGradient = new double[count][n][];
        double[][][] betaGradient = new double[count][n][];
        double[] h = x;
        for (int i = 0; i <= top; i++) {
            Layer layer = layers.get(i);
            int width = layer.outputSize();
            double[] next;
            if (layer instanceof ReluLayer) {
                next = new double[h.length];
                for (int q = 0; q < count; q++) {
                    double[] g = new double[width];
                    for (int k = 0; k < width; k++) {
                        int f = q * width + k;
                        g[k] = lowerLineCoefficient[i][f] * h[f];
                        next[f] = slope[i][f] * h[f] + intercept[i][f];
                    }
                    alphaGradient[q][i] = g;
                }
            } else if (layer instanceof DenseLayer dense) {
                next = times(h, count, dense, false);
                for (int f = 0; f < next.length; f++) {
                    next[f] += dense.bias(f % width);
                }
            } else {
                ElementwiseAffineLayer affine = (ElementwiseAffineLayer) layer;
                next = new double[h.length];
                for (int f = 0; f < next.length; f++) {
                    next[f] = h[f] * affine.scale(f % width) + affine.shift(f % width);
                }
            }
            for (int q = 0; q < count; q++) {
                if (multipliers[q].beta[i] != null) {
                    Splits splits = queries.get(q).splits();
                    double[] g = new double[width];
                    for (int k = 0; k < width; k++) {
                        g[k] = -splits.sign(i, k) * next[q * width + k];
                    }
                    betaGradient[q][i] = g;
                }
            }
            h = next;
        }
        Evaluation[] result = new Evaluation[count];
        for (int q = 0; q < count; q++) {
            double[][] coefficients = new double[n][];
            for (int i = 0; i <= top; i++) {
                if (reluCoefficients[i] != null) {
                    int width = layers.get(i).outputSize();
                    coefficients[i] =
                            Arrays.copyOfRange(reluCoefficients[i], q * width, (q + 1) * width);
                }
            }
            result[q] =
                    new Evaluation(
                            guarded[q],
                            Arrays.copyOfRange(x, q * inputs, (q + 1) * inputs),
                            alphaGradient[q],
                            betaGradient[q],
                            coefficients);
        }
        return result;
    }

    /** Below this many multiply-adds a plain loop beats a BLAS call and its fixed cost. */
    private static final long SMALL_PRODUCT = 32_768;

    /**
     * The {@code rows} row vectors of {@code v} times W ({@code back}: [rows, out] to [rows, in])
     * or times W^T ([rows, in] to [rows, out]).
     */
    private static double[] times(double[] v, int rows, DenseLayer dense, boolean back) {
        int in = dense.inputSize();
        int out = dense.outputSize();
        if ((long) rows * in * out >= SMALL_PRODUCT) {
            return Matmul.multiply(v, rows, back ? dense.weightT() : dense.weightMatrix());
        }
        double[] result = new double[rows * (back ? in : out)];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                if (back) {
                    double a = v[r * out + o];
                    if (a != 0) {
                        for (int k = 0; k < in; k++) {
                            result[r * in + k] += a * dense.weight(o, k);
                        }
                    }
                } else {
                    double sum = 0;
                    for (int k = 0; k < in; k++) {
                        sum += v[r * in + k] * dense.weight(o, k);
                    }
                    result[r * out + o] = sum;
                }
            }
        }
        return result;
    }
}
