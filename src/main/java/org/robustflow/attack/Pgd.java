package org.robustflow.attack;

import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Projected gradient descent on the margin loss (Madry et al. 2018, "Towards Deep Learning Models
 * Resistant to Adversarial Attacks"), searching the eps-box for a misclassified point.
 *
 * <p>Loss: logit_t - logit_y with t the strongest other class at the current point
 * (Carlini-Wagner's margin). Sign steps of {@code stepFraction * eps}, projection onto the box
 * [max(0, x-eps), min(1, x+eps)] after every step; the first restart starts at the image, the
 * others at random points of the box. Stops at the first hit. A hit is re-checked by {@link
 * Witnesses} before it is returned: inside the box and violating beyond the forward pass's
 * rounding; otherwise it is not a witness. Thread-safe: no mutable state besides the per-call
 * random generator.
 */
public final class Pgd {
    /**
     * Attack strength.
     *
     * @param adaptive restarts after the first target one disjunct each (for robustness: one
     *     competing class), and the step starts at half the box radius and halves back at the best
     *     point when the loss has not improved for a tenth of the steps (the schedule of APGD,
     *     Croce and Hein 2020, without its momentum)
     */
    public record Settings(
            int steps, int restarts, double stepFraction, long seed, boolean adaptive)
            implements java.io.Serializable {
        /** Fixed steps, untargeted. */
        public Settings(int steps, int restarts, double stepFraction, long seed) {
            this(steps, restarts, stepFraction, seed, false);
        }

        public static Settings defaults() {
            return new Settings(40, 3, 0.1, 7L);
        }
    }

    private final Network network;
    private final Settings settings;

    public Pgd(Network mlp, Settings settings) {
        this.network = mlp;
        this.settings = settings;
    }

    public Network model() {
        return network;
    }

    /** A re-checked counterexample for (x, label, eps), if the attack finds one. */
    public Optional<double[]> attack(double[] x, int label, double eps) {
        for (double v : x) {
            if (!(Math.max(0.0, v - eps) <= Math.min(1.0, v + eps))) {
                return Optional.empty(); // a pixel outside [0,1] by more than eps: an empty box
            }
        }
        Box box = Box.around(x, eps);
        OutputSpec spec = OutputSpec.robustness(network.numClasses(), label);
        // A seed per query: the image, its label and eps, so restarts differ across queries.
        long seed = settings.seed() ^ Double.doubleToLongBits(eps) ^ label;
        seed = seed * 31 + java.util.Arrays.hashCode(x);
        return search(box, spec, x, settings.stepFraction() * eps, eps, seed, Long.MAX_VALUE);
    }

    /**
     * A re-checked point of {@code box} whose outputs violate {@code spec}, if the attack finds
     * one. Starts at the box centre, then at random points; the seed is derived from the box, so
     * different queries search differently and the same query repeats.
     */
    public Optional<double[]> attack(Box box, OutputSpec spec) {
        return attack(box, spec, Long.MAX_VALUE);
    }

    /**
     * As {@link #attack(Box, OutputSpec)}, starting no restart after {@code deadlineNanos} ({@link
     * System#nanoTime()}).
     */
    public Optional<double[]> attack(Box box, OutputSpec spec, long deadlineNanos) {
        int n = box.size();
        double[] centre = new double[n];
        double radius = 0;
        long seed = settings.seed();
        for (int k = 0; k < n; k++) {
            centre[k] = (box.lower(k) + box.upper(k)) * 0.5;
            radius = Math.max(radius, (box.upper(k) - box.lower(k)) * 0.5);
            seed = seed * 31 + Double.doubleToLongBits(box.lower(k));
        }
        return search(
                box, spec, centre, settings.stepFraction() * radius, radius, seed, deadlineNanos);
    }

    private Optional<double[]> search(
            Box box,
            OutputSpec spec,
            double[] start,
            double step,
            double radius,
            long seed,
            long deadlineNanos) {
        int n = box.size();
        double[] lo = box.lower();
        double[] hi = box.upper();
        Random random = new Random(seed);
        int disjuncts = spec.disjuncts().size();
        int[] order = settings.adaptive() ? closestFirst(start, spec) : null;
        int patience = Math.max(2, settings.steps() / 10);
        for (int restart = 0; restart < settings.restarts(); restart++) {
            if (restart > 0 && System.nanoTime() > deadlineNanos) {
                break;
            }
            double[] p = new double[n];
            for (int k = 0; k < n; k++) {
                p[k] =
                        restart == 0
                                ? Math.min(hi[k], Math.max(lo[k], start[k]))
                                : lo[k] + random.nextDouble() * (hi[k] - lo[k]);
            }
            OutputSpec target =
                    settings.adaptive() && restart > 0 && disjuncts > 1
                            ? new OutputSpec(
                                    spec.outputs(),
                                    List.of(spec.disjuncts().get(order[(restart - 1) % disjuncts])))
                            : spec;
            double eta = settings.adaptive() ? Math.max(step, 0.5 * radius) : step;
            double[] best = p.clone();
            double bestLoss = Double.POSITIVE_INFINITY;
            int sinceImproved = 0;
            for (int s = 0; s <= settings.steps(); s++) {
                double[] gradient = new double[n];
                double loss = lossGradient(p, target, gradient);
                if (loss <= 0 && Witnesses.isCounterexample(network, box, spec, p)) {
                    return Optional.of(p);
                }
                if (s == settings.steps()) {
                    break;
                }
                if (loss < bestLoss) {
                    bestLoss = loss;
                    best = p.clone();
                    sinceImproved = 0;
                } else if (settings.adaptive() && ++sinceImproved >= patience && eta > step / 8) {
                    eta *= 0.5;
                    p = best.clone();
                    sinceImproved = 0;
                    lossGradient(p, target, gradient);
                }
                for (int k = 0; k < n; k++) {
                    double moved = p[k] + eta * Math.signum(gradient[k]);
                    p[k] = Math.min(hi[k], Math.max(lo[k], moved));
                }
            }
        }
        return Optional.empty();
    }

    /** Disjunct indices, the least violated at {@code point} first: the likeliest targets. */
    private int[] closestFirst(double[] point, OutputSpec spec) {
        double[] y = network.logits(point);
        List<List<LinearConstraint>> disjuncts = spec.disjuncts();
        double[] excess = new double[disjuncts.size()];
        Integer[] order = new Integer[disjuncts.size()];
        for (int d = 0; d < order.length; d++) {
            order[d] = d;
            excess[d] = Double.NEGATIVE_INFINITY;
            for (LinearConstraint c : disjuncts.get(d)) {
                excess[d] = Math.max(excess[d], -c.slack(y));
            }
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(excess[a], excess[b]));
        int[] result = new int[order.length];
        for (int d = 0; d < order.length; d++) {
            result[d] = order[d];
        }
        return result;
    }

    /**
     * Writes the descent direction of the loss min over disjuncts of max over their constraints of
     * (c . y - bound) into {@code gradient} (negated gradient, so steps add it) and returns the
     * loss: &lt;= 0 in plain double where p may be a counterexample. For the robustness spec this
     * is Carlini-Wagner's margin logit_y - max_{j != y} logit_j.
     */
    private double lossGradient(double[] p, OutputSpec spec, double[] gradient) {
        List<Layer> layers = network.layers();
        double[][] inputs = new double[layers.size()][];
        double[] h = p;
        for (int l = 0; l < layers.size(); l++) {
            inputs[l] = h;
            h = layers.get(l).forward(h);
        }
        double best = Double.POSITIVE_INFINITY;
        LinearConstraint steepest = null;
        for (List<LinearConstraint> conjunct : spec.disjuncts()) {
            double worst = Double.NEGATIVE_INFINITY;
            LinearConstraint worstConstraint = null;
            for (LinearConstraint c : conjunct) {
                double excess = -c.slack(h);
                if (excess > worst) {
                    worst = excess;
                    worstConstraint = c;
                }
            }
            if (worst < best) {
                best = worst;
                steepest = worstConstraint;
            }
        }
        if (best <= 0) {
            return best;
        }
        double[] g = steepest.coefficients();
        for (int i = 0; i < g.length; i++) {
            g[i] = -g[i];
        }
        for (int l = layers.size() - 1; l >= 0; l--) {
            g = layers.get(l).backward(inputs[l], g);
        }
        System.arraycopy(g, 0, gradient, 0, gradient.length);
        return best;
    }
}
