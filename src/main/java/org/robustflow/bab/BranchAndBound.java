package org.robustflow.bab;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Interval;
import org.robustflow.bounds.Splits;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Branch and bound over ReLU splits (Bunel et al. 2018, "A Unified View of Piecewise Linear Neural
 * Network Verification"; the BaB part of beta-CROWN, Wang et al. 2021), proving that no point of a
 * box satisfies one conjunction of output constraints.
 *
 * <p>A subdomain is the box with some ReLUs forced active (z &gt;= 0) or inactive (z &lt;= 0); the
 * two children of a split cover their parent, so proving every leaf proves the root. Each subdomain
 * is bounded by guarded CROWN with its decisions intersected into the neuron bounds (no Lagrangian
 * terms yet: the decisions tighten the relaxations, they do not cut the input box), so every
 * "proved" rests on the same guarded double arithmetic as a root certificate. Subdomains are
 * bounded in batches through the batched engine, worst bound first; the branching rule picks the
 * unstable neuron whose triangle relaxation is widest, u (-l) / (u - l).
 *
 * <p>Ends PROVED when no subdomain is left, or OPEN when the deadline or the subdomain budget runs
 * out, or a subdomain has no unstable neuron left and still no proof (the decisions are not cut
 * into the input box, so such a leaf can stay unproven).
 */
public final class BranchAndBound {
    /** How a search ended. */
    public enum Status {
        PROVED,
        OPEN
    }

    /**
     * Statistics of one search.
     *
     * @param domains subdomains bounded, root included
     * @param maxDepth the most decisions in one subdomain
     */
    public record Outcome(Status status, int domains, int maxDepth, String reason) {}

    /** Limits of one search. */
    public record Settings(int batchSize, int maxQueuedDomains) {
        public static Settings defaults() {
            return new Settings(64, 200_000);
        }
    }

    private record Domain(
            Splits splits, double score, List<double[][]> reluInputs, double[][] beta) {}

    /** Beta steps per subdomain that CROWN alone leaves open. */
    private static final int BETA_ITERATIONS = 20;

    /**
     * Beta steps on a subdomain with every ReLU decided, where they converge to the exact bound.
     */
    private static final int LEAF_BETA_ITERATIONS = 500;

    private final Network network;
    private final CrownPropagator crown;
    private final BetaCrown beta;
    private final Settings settings;

    /** Network layer index of the output each ReLU reads, in ReLU order. */
    private final int[] reluSourceLayer;

    public BranchAndBound(Network network, Settings settings) {
        this.network = network;
        this.crown = new CrownPropagator(network);
        this.beta = new BetaCrown(network);
        this.settings = settings;
        List<Integer> sources = new ArrayList<>();
        List<Layer> layers = network.layers();
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i) instanceof ReluLayer) {
                sources.add(i - 1);
            }
        }
        this.reluSourceLayer = sources.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * Proves that no point of {@code box} satisfies every constraint of {@code conjunct}, or gives
     * up at {@code deadlineNanos} ({@link System#nanoTime()}).
     */
    public Outcome prove(Box box, List<LinearConstraint> conjunct, long deadlineNanos) {
        OutputSpec spec = new OutputSpec(network.numClasses(), List.of(conjunct));
        Interval one = new Interval(box.lower(), box.upper(), 1, box.size());
        PriorityQueue<Domain> queue =
                new PriorityQueue<>((a, b) -> Double.compare(a.score(), b.score()));
        List<Domain> root =
                bound(
                        box,
                        one,
                        spec,
                        List.of(Splits.NONE),
                        List.<double[][]>of(new double[0][]),
                        1);
        int domains = 1;
        int maxDepth = 0;
        if (root.isEmpty()) {
            return new Outcome(Status.PROVED, domains, maxDepth, "root");
        }
        queue.addAll(root);
        while (!queue.isEmpty()) {
            if (System.nanoTime() > deadlineNanos) {
                return new Outcome(Status.OPEN, domains, maxDepth, "time limit");
            }
            if (queue.size() > settings.maxQueuedDomains()) {
                return new Outcome(Status.OPEN, domains, maxDepth, "subdomain budget");
            }
            List<Splits> children = new ArrayList<>();
            List<double[][]> betas = new ArrayList<>();
            while (!queue.isEmpty() && children.size() < 2 * settings.batchSize()) {
                Domain d = queue.poll();
                int[] choice = branch(d);
                if (choice == null) {
                    // Every ReLU is decided: the subdomain is a polytope on which the network is
                    // linear, and with the best beta the bound is its exact minimum (LP duality).
                    if (leafProved(box, spec, d)) {
                        continue;
                    }
                    return new Outcome(
                            Status.OPEN, domains, maxDepth, "leaf without unstable neurons");
                }
                int layer = reluSourceLayer[choice[0]];
                int width = d.reluInputs().get(choice[0])[0].length;
                children.add(d.splits().with(layer, choice[1], width, 1));
                children.add(d.splits().with(layer, choice[1], width, -1));
                double[][] inherited = withRow(d.beta(), layer, width);
                betas.add(inherited);
                betas.add(copy(inherited));
                maxDepth = Math.max(maxDepth, d.splits().count() + 1);
            }
            domains += children.size();
            if (!children.isEmpty()) {
                queue.addAll(bound(box, one, spec, children, betas, children.size()));
            }
        }
        return new Outcome(Status.PROVED, domains, maxDepth, "all subdomains proved");
    }

    /** Bounds the subdomains; returns those not yet proved, scored by their best constraint. */
    private List<Domain> bound(
            Box box,
            Interval one,
            OutputSpec spec,
            List<Splits> splits,
            List<double[][]> betas,
            int count) {
        double[] lower = new double[count * one.width()];
        double[] upper = new double[count * one.width()];
        OutputSpec[] specs = new OutputSpec[count];
        for (int q = 0; q < count; q++) {
            System.arraycopy(one.lower(), 0, lower, q * one.width(), one.width());
            System.arraycopy(one.upper(), 0, upper, q * one.width(), one.width());
            specs[q] = spec;
        }
        CrownPropagator.SpecBounds[] b =
                crown.bound(
                        new Interval(lower, upper, count, one.width()),
                        specs,
                        splits.toArray(new Splits[0]));
        List<Domain> open = new ArrayList<>();
        List<LinearConstraint> conjunct = spec.disjuncts().get(0);
        for (int q = 0; q < count; q++) {
            // Proved when some constraint's lower bound exceeds its bound: c . y > bound here.
            // The score (how far from proved) orders the queue, worst first.
            boolean proved = false;
            double best = Double.NEGATIVE_INFINITY;
            for (int r = 0; r < conjunct.size(); r++) {
                proved |= b[q].rowLower()[r] > conjunct.get(r).bound();
                best = Math.max(best, b[q].rowLower()[r] - conjunct.get(r).bound());
            }
            if (!proved && splits.get(q).count() > 0) {
                // The decisions as Lagrangian terms (beta-CROWN) on the most promising row.
                int row = 0;
                for (int r = 1; r < conjunct.size(); r++) {
                    if (b[q].rowLower()[r] - conjunct.get(r).bound()
                            > b[q].rowLower()[row] - conjunct.get(row).bound()) {
                        row = r;
                    }
                }
                double betaLower =
                        beta.optimise(
                                box,
                                b[q].hiddenPreActivations(),
                                splits.get(q),
                                conjunct.get(row),
                                betas.get(q),
                                BETA_ITERATIONS);
                proved = betaLower > conjunct.get(row).bound();
                best = Math.max(best, betaLower - conjunct.get(row).bound());
            }
            if (!proved) {
                open.add(
                        new Domain(splits.get(q), best, b[q].hiddenPreActivations(), betas.get(q)));
            }
        }
        return open;
    }

    /** {relu index, neuron} of the unstable neuron with the widest relaxation, or null. */
    private static int[] branch(Domain d) {
        int[] best = null;
        double widest = -1;
        for (int r = 0; r < d.reluInputs().size(); r++) {
            double[][] b = d.reluInputs().get(r);
            for (int k = 0; k < b[0].length; k++) {
                double l = b[0][k];
                double u = b[1][k];
                if (l < 0 && u > 0) {
                    double gap = u * (-l) / (u - l);
                    if (gap > widest) {
                        widest = gap;
                        best = new int[] {r, k};
                    }
                }
            }
        }
        return best;
    }

    /** Beta-CROWN run long on a subdomain without unstable neurons. */
    private boolean leafProved(Box box, OutputSpec spec, Domain d) {
        for (LinearConstraint c : spec.disjuncts().get(0)) {
            double lower =
                    beta.optimise(
                            box, d.reluInputs(), d.splits(), c, d.beta(), LEAF_BETA_ITERATIONS);
            if (lower > c.bound()) {
                return true;
            }
        }
        return false;
    }

    /** A copy of {@code beta} with a (zero) row for layer {@code layer} of {@code width}. */
    private static double[][] withRow(double[][] beta, int layer, int width) {
        double[][] copy = copy(beta);
        if (copy.length <= layer) {
            copy = java.util.Arrays.copyOf(copy, layer + 1);
        }
        if (copy[layer] == null) {
            copy[layer] = new double[width];
        }
        return copy;
    }

    private static double[][] copy(double[][] beta) {
        double[][] copy = new double[beta.length][];
        for (int i = 0; i < beta.length; i++) {
            copy[i] = beta[i] == null ? null : beta[i].clone();
        }
        return copy;
    }
}
