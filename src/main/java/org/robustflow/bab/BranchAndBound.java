package org.robustflow.bab;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.robustflow.attack.Witnesses;
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
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;

/**
 * Branch and bound over ReLU splits (Bunel et al. 2018, "A Unified View of Piecewise Linear Neural
 * Network Verification"; the BaB part of beta-CROWN, Wang et al. 2021), deciding whether some point
 * of a box satisfies one conjunction of output constraints.
 *
 * <p>A subdomain is the box with some ReLUs forced active (z &gt;= 0) or inactive (z &lt;= 0); the
 * two children of a split cover their parent, so proving every leaf proves the root. Subdomains are
 * bounded in batches by guarded CROWN with their decisions intersected into the neuron bounds, and
 * with the root's intermediate bounds tightened once by optimised slopes; those it leaves open get
 * optimised slopes and split multipliers ({@link AlphaBetaCrown}), warm started from their parent,
 * so every "proved" rests on the same guarded double arithmetic as a root certificate. The queue is
 * worst bound first; the branching rule tries the few neurons whose relaxation costs the optimised
 * bound most and splits the one whose children bound best (see {@link #branch}).
 *
 * <p>The input corner minimising each relaxed bound is tried on the real network, and on a
 * subdomain with every ReLU decided (where the network is linear) the most violating point of an LP
 * ({@link LeafLp}): a point that violates the constraints beyond the forward pass's rounding
 * ({@link Witnesses}) ends the search FALSIFIED. Ends PROVED when no subdomain is left, OPEN when
 * the deadline or the memory budget runs out, or when a subdomain with every ReLU decided is
 * neither proved nor refuted.
 */
public final class BranchAndBound {
    /** How a search ended. */
    public enum Status {
        PROVED,
        FALSIFIED,
        OPEN
    }

    /**
     * Statistics of one search.
     *
     * @param domains subdomains bounded, root included
     * @param maxDepth the most decisions in one subdomain
     * @param witness a re-checked point satisfying the conjunction when FALSIFIED, else null
     */
    public record Outcome(
            Status status, int domains, int maxDepth, String reason, double[] witness) {}

    /**
     * Limits of one search.
     *
     * @param batchSize subdomains split per round (twice as many bounded)
     * @param memoryBytes what the queued subdomains may hold (their bounds and multipliers)
     * @param threads threads that optimise a round's subdomains side by side
     * @param maxDomains subdomains one query may bound before it ends OPEN; 0 for no limit. Unlike
     *     a time limit, the answer then does not depend on the machine's load.
     */
    public record Settings(int batchSize, long memoryBytes, int threads, long maxDomains)
            implements java.io.Serializable {
        public Settings {
            if (batchSize < 1 || memoryBytes < 1 || threads < 1 || maxDomains < 0) {
                throw new IllegalArgumentException(
                        "batch size, memory and threads must be positive, the domain budget >= 0");
            }
        }

        /** One thread, no domain budget: for callers that already run a query per core. */
        public static Settings defaults() {
            return new Settings(64, 1L << 31, 1, 0);
        }

        /** These settings on {@code threads} threads. */
        public Settings withThreads(int threads) {
            return new Settings(batchSize, memoryBytes, threads, maxDomains);
        }

        /** These settings with at most {@code maxDomains} subdomains per query (0: no limit). */
        public Settings withMaxDomains(long maxDomains) {
            return new Settings(batchSize, memoryBytes, threads, maxDomains);
        }
    }

    /**
     * An open subdomain: its decisions, how far its best constraint is from proved, its ReLU input
     * bounds, and the optimiser's variables, coefficients and row on it.
     */
    private record Domain(
            Splits splits,
            double score,
            List<double[][]> reluInputs,
            AlphaBetaCrown.Multipliers multipliers,
            double[][] reluCoefficients,
            LinearConstraint row) {}

    /** Optimiser steps per subdomain that CROWN alone leaves open (the root included). */
    private static final int ITERATIONS = 50;

    /** Slope steps per bound of an intermediate neuron, refined once at the root. */
    private static final int REFINE_ITERATIONS = 50;

    /** Relative slack below which a minimiser is re-checked exactly as a possible witness. */
    private static final double NEAR_VIOLATION = 1e-6;

    /** Neurons tried per branching decision (filtered smart branching); 1 is plain BaBSR. */
    private static final int FSB_CANDIDATES = 4;

    /**
     * Optimiser steps on each candidate child before the candidates are compared: with none, the
     * parent's slopes and a zero multiplier misjudge some splits.
     */
    private static final int FSB_STEPS = 3;

    /** Steps on a subdomain with every ReLU decided, where they approach the exact bound. */
    private static final int LEAF_ITERATIONS = 500;

    private final Network network;
    private final CrownPropagator crown;
    private final AlphaBetaCrown optimiser;
    private final LeafLp leafLp;
    private final Settings settings;

    /** Network layer index of the output each ReLU reads, in ReLU order. */
    private final int[] reluSourceLayer;

    /** Queued subdomains that fit the memory budget. */
    private final int maxQueuedDomains;

    public BranchAndBound(Network network, Settings settings) {
        this.network = network;
        this.crown = new CrownPropagator(network);
        this.optimiser = new AlphaBetaCrown(network, settings.threads());
        this.leafLp = new LeafLp(network);
        this.settings = settings;
        List<Integer> sources = new ArrayList<>();
        List<Layer> layers = network.layers();
        int relus = 0;
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i) instanceof ReluLayer) {
                sources.add(i - 1);
                relus += layers.get(i).inputSize();
            }
        }
        this.reluSourceLayer = sources.stream().mapToInt(Integer::intValue).toArray();
        // Per subdomain: ReLU input bounds (2), slopes and multipliers (2), doubles, plus headers.
        long bytesPerDomain = 32L * relus + 512;
        this.maxQueuedDomains = (int) Math.min(1_000_000, settings.memoryBytes() / bytesPerDomain);
    }

    /**
     * Decides whether some point of {@code box} satisfies every constraint of {@code conjunct}, or
     * gives up at {@code deadlineNanos} ({@link System#nanoTime()}).
     */
    public Outcome prove(Box box, List<LinearConstraint> conjunct, long deadlineNanos) {
        return proveAll(box, List.of(conjunct), null, deadlineNanos);
    }

    /**
     * Decides whether some point of {@code box} satisfies some disjunct (each a conjunction of
     * constraints); {@code open} selects the disjuncts to search (null for all). The disjuncts are
     * searched one after the other and share the intermediate bounds refined at the root: PROVED
     * when every one is, FALSIFIED at the first witness, OPEN at the first that stays open.
     */
    public Outcome proveAll(
            Box box, List<List<LinearConstraint>> disjuncts, boolean[] open, long deadlineNanos) {
        Interval one = new Interval(box.lower(), box.upper(), 1, box.size());
        double[][] magnitude = crown.magnitudes(box.lower(), box.upper());
        List<double[][]> known = null;
        int domains = 0;
        int maxDepth = 0;
        for (int d = 0; d < disjuncts.size(); d++) {
            if (open != null && !open[d]) {
                continue;
            }
            OutputSpec spec = new OutputSpec(network.numClasses(), List.of(disjuncts.get(d)));
            Round root =
                    bound(
                            box,
                            one,
                            spec,
                            List.of(Splits.NONE),
                            List.of(AlphaBetaCrown.Multipliers.initial(network)),
                            null,
                            known,
                            magnitude,
                            deadlineNanos);
            if (known == null && root.witness() == null && !root.open().isEmpty()) {
                // Tighter intermediate bounds for every subdomain to come, with at most a
                // quarter of the time left; then the root again with them.
                long now = System.nanoTime();
                known =
                        optimiser.refineIntermediate(
                                box,
                                root.open().get(0).reluInputs(),
                                REFINE_ITERATIONS,
                                now + Math.max(0, deadlineNanos - now) / 4);
                root =
                        bound(
                                box,
                                one,
                                spec,
                                List.of(Splits.NONE),
                                List.of(root.open().get(0).multipliers()),
                                null,
                                known,
                                magnitude,
                                deadlineNanos);
            }
            long budget =
                    settings.maxDomains() == 0
                            ? Long.MAX_VALUE
                            : Math.max(1, settings.maxDomains() - domains);
            Outcome o = search(box, one, spec, root, known, magnitude, deadlineNanos, budget);
            domains += o.domains();
            maxDepth = Math.max(maxDepth, o.maxDepth());
            if (o.status() != Status.PROVED) {
                return new Outcome(o.status(), domains, maxDepth, o.reason(), o.witness());
            }
        }
        return new Outcome(Status.PROVED, domains, maxDepth, "all subdomains proved", null);
    }

    /**
     * Branch and bound on one disjunct from its bounded root, at most {@code maxDomains} bounded.
     */
    private Outcome search(
            Box box,
            Interval one,
            OutputSpec spec,
            Round root,
            List<double[][]> known,
            double[][] magnitude,
            long deadlineNanos,
            long maxDomains) {
        PriorityQueue<Domain> queue =
                new PriorityQueue<>((a, b) -> Double.compare(a.score(), b.score()));
        int domains = 1;
        int maxDepth = 0;
        int unresolvedLeaves = 0;
        if (root.witness() != null) {
            return new Outcome(Status.FALSIFIED, domains, maxDepth, "root", root.witness());
        }
        if (root.open().isEmpty()) {
            return new Outcome(Status.PROVED, domains, maxDepth, "root", null);
        }
        queue.addAll(root.open());
        while (!queue.isEmpty()) {
            if (System.nanoTime() > deadlineNanos) {
                return new Outcome(Status.OPEN, domains, maxDepth, "time limit", null);
            }
            if (queue.size() > maxQueuedDomains) {
                return new Outcome(Status.OPEN, domains, maxDepth, "memory budget", null);
            }
            if (domains >= maxDomains) {
                return new Outcome(Status.OPEN, domains, maxDepth, "domain budget", null);
            }
            List<Splits> children = new ArrayList<>();
            List<AlphaBetaCrown.Multipliers> starts = new ArrayList<>();
            List<List<double[][]>> parents = new ArrayList<>();
            List<Domain> picked = new ArrayList<>();
            while (!queue.isEmpty() && picked.size() < settings.batchSize()) {
                picked.add(queue.poll());
            }
            int[][] choices = branch(box, picked, magnitude);
            for (int i = 0; i < picked.size(); i++) {
                Domain d = picked.get(i);
                int[] choice = choices[i];
                if (choice == null) {
                    // Every ReLU is decided: the subdomain is a polytope on which the network is
                    // linear, and with the best beta the bound is its exact minimum (LP duality).
                    Leaf leaf = leaf(box, spec, d, magnitude);
                    if (leaf.witness() != null) {
                        return new Outcome(
                                Status.FALSIFIED, domains, maxDepth, "leaf LP", leaf.witness());
                    }
                    if (!leaf.proved()) {
                        // Nothing left to split here; a witness may still be found elsewhere.
                        unresolvedLeaves++;
                    }
                    continue;
                }
                int layer = reluSourceLayer[choice[0]];
                int width = d.reluInputs().get(choice[0])[0].length;
                children.add(d.splits().with(layer, choice[1], width, 1));
                children.add(d.splits().with(layer, choice[1], width, -1));
                starts.add(d.multipliers().withBetaRow(layer, width));
                starts.add(d.multipliers().withBetaRow(layer, width));
                parents.add(d.reluInputs());
                parents.add(d.reluInputs());
                maxDepth = Math.max(maxDepth, d.splits().count() + 1);
            }
            domains += children.size();
            if (!children.isEmpty()) {
                Round round =
                        bound(
                                box,
                                one,
                                spec,
                                children,
                                starts,
                                parents,
                                known,
                                magnitude,
                                deadlineNanos);
                if (round.witness() != null) {
                    return new Outcome(
                            Status.FALSIFIED,
                            domains,
                            maxDepth,
                            "subdomain minimiser",
                            round.witness());
                }
                queue.addAll(round.open());
            }
        }
        return unresolvedLeaves > 0
                ? new Outcome(
                        Status.OPEN,
                        domains,
                        maxDepth,
                        unresolvedLeaves + " leaves neither proved nor refuted",
                        null)
                : new Outcome(Status.PROVED, domains, maxDepth, "all subdomains proved", null);
    }

    /** The subdomains a round left open, or a witness that ends the search. */
    private record Round(List<Domain> open, double[] witness) {}

    /**
     * Bounds the subdomains; returns those not yet proved, scored by their best constraint. A child
     * keeps its parent's ReLU input bounds ({@code parents}, null at the root), narrowed by its new
     * decision and box propagation, as beta-CROWN does: its split is enforced by its multiplier in
     * the optimised bound, and no intermediate neuron is back-substituted again.
     */
    private Round bound(
            Box box,
            Interval one,
            OutputSpec spec,
            List<Splits> splits,
            List<AlphaBetaCrown.Multipliers> starts,
            List<List<double[][]>> parents,
            List<double[][]> known,
            double[][] magnitude,
            long deadlineNanos) {
        int count = splits.size();
        double[] lower = new double[count * one.width()];
        double[] upper = new double[count * one.width()];
        OutputSpec[] specs = new OutputSpec[count];
        for (int q = 0; q < count; q++) {
            System.arraycopy(one.lower(), 0, lower, q * one.width(), one.width());
            System.arraycopy(one.upper(), 0, upper, q * one.width(), one.width());
            specs[q] = spec;
        }
        Interval boxes = new Interval(lower, upper, count, one.width());
        Splits[] decisions = splits.toArray(new Splits[0]);
        CrownPropagator.SpecBounds[] b =
                parents == null
                        ? crown.bound(boxes, specs, decisions, known)
                        : crown.boundWithin(boxes, specs, decisions, parents);
        List<Domain> open = new ArrayList<>();
        List<LinearConstraint> conjunct = spec.disjuncts().get(0);
        List<Integer> unproved = new ArrayList<>();
        List<Integer> rows = new ArrayList<>();
        List<AlphaBetaCrown.Problem> problems = new ArrayList<>();
        for (int q = 0; q < count; q++) {
            // Proved when some constraint's lower bound exceeds its bound: c . y > bound here.
            boolean proved = false;
            for (int r = 0; r < conjunct.size(); r++) {
                proved |= b[q].rowLower()[r] > conjunct.get(r).bound();
            }
            if (proved) {
                continue;
            }
            // Optimised slopes and multipliers on the most promising row; a subdomain still
            // open after that keeps the multipliers as its children's warm start.
            int row = 0;
            for (int r = 1; r < conjunct.size(); r++) {
                if (b[q].rowLower()[r] - conjunct.get(r).bound()
                        > b[q].rowLower()[row] - conjunct.get(row).bound()) {
                    row = r;
                }
            }
            unproved.add(q);
            rows.add(row);
            problems.add(
                    new AlphaBetaCrown.Problem(
                            b[q].hiddenPreActivations(),
                            splits.get(q),
                            conjunct.get(row),
                            starts.get(q)));
        }
        if (problems.isEmpty()) {
            return new Round(open, null);
        }
        List<AlphaBetaCrown.Optimised> optimised =
                optimiser.optimiseAll(
                        box,
                        problems,
                        System.nanoTime() > deadlineNanos ? 0 : ITERATIONS,
                        magnitude);
        boolean[] nearViolation = nearViolation(spec, optimised);
        for (int j = 0; j < problems.size(); j++) {
            int q = unproved.get(j);
            int row = rows.get(j);
            AlphaBetaCrown.Optimised o = optimised.get(j);
            if (o.bound() > conjunct.get(row).bound()) {
                continue;
            }
            if (nearViolation[j] && Witnesses.isCounterexample(network, box, spec, o.minimiser())) {
                return new Round(open, o.minimiser());
            }
            // The score (how far from proved) orders the queue, worst first.
            double best = o.bound() - conjunct.get(row).bound();
            for (int r = 0; r < conjunct.size(); r++) {
                best = Math.max(best, b[q].rowLower()[r] - conjunct.get(r).bound());
            }
            open.add(
                    new Domain(
                            splits.get(q),
                            best,
                            b[q].hiddenPreActivations(),
                            o.multipliers(),
                            o.reluCoefficients(),
                            conjunct.get(row)));
        }
        return new Round(open, null);
    }

    /**
     * Which minimisers come within a loose tolerance of violating the spec, by one batched forward
     * pass: only those can pass the exact re-check ({@link Witnesses}), whose own forward pass
     * differs from this one by rounding far below the tolerance.
     */
    private boolean[] nearViolation(OutputSpec spec, List<AlphaBetaCrown.Optimised> candidates) {
        int count = candidates.size();
        int inputs = network.inputSize();
        double[] points = new double[count * inputs];
        for (int j = 0; j < count; j++) {
            System.arraycopy(candidates.get(j).minimiser(), 0, points, j * inputs, inputs);
        }
        double[] h =
                network.logits(Nd4j.create(points, new long[] {count, inputs}, DataType.DOUBLE))
                        .ravel()
                        .toDoubleVector();
        int outputs = network.numClasses();
        boolean[] near = new boolean[count];
        for (int j = 0; j < count; j++) {
            double[] y = Arrays.copyOfRange(h, j * outputs, (j + 1) * outputs);
            for (List<LinearConstraint> disjunct : spec.disjuncts()) {
                boolean all = true;
                for (LinearConstraint c : disjunct) {
                    double magnitude = Math.abs(c.bound());
                    for (int k = 0; k < outputs; k++) {
                        magnitude += Math.abs(c.coefficient(k) * y[k]);
                    }
                    all &= c.slack(y) > -NEAR_VIOLATION * (1 + magnitude);
                }
                near[j] |= all;
            }
        }
        return near;
    }

    /**
     * The split of each subdomain, {relu index, neuron}, or null when it has no unstable neuron:
     * filtered smart branching (De Palma et al. 2021, as in alpha-beta-CROWN). The {@link
     * #FSB_CANDIDATES} neurons with the best intercept score are each tried: both children are
     * bounded with the parent's bounds, the neuron fixed, after {@link #FSB_STEPS} optimiser steps
     * from the parent's variables (all candidates of all subdomains in one batch), and the neuron
     * whose worse child bounds highest is split.
     */
    private int[][] branch(Box box, List<Domain> domains, double[][] magnitude) {
        int[][] choices = new int[domains.size()][];
        List<int[][]> candidates = new ArrayList<>();
        List<AlphaBetaCrown.Problem> problems = new ArrayList<>();
        for (int i = 0; i < domains.size(); i++) {
            Domain d = domains.get(i);
            int[][] c = candidates(d);
            candidates.add(c);
            choices[i] = c.length == 0 ? null : c[0];
            if (c.length < 2) {
                continue;
            }
            for (int[] candidate : c) {
                int layer = reluSourceLayer[candidate[0]];
                int width = d.reluInputs().get(candidate[0])[0].length;
                for (int sign : new int[] {1, -1}) {
                    problems.add(
                            new AlphaBetaCrown.Problem(
                                    fixed(d.reluInputs(), candidate, sign),
                                    d.splits().with(layer, candidate[1], width, sign),
                                    d.row(),
                                    d.multipliers().withBetaRow(layer, width)));
                }
            }
        }
        if (problems.isEmpty()) {
            return choices;
        }
        List<AlphaBetaCrown.Optimised> estimates =
                optimiser.optimiseAll(box, problems, FSB_STEPS, magnitude);
        int next = 0;
        for (int i = 0; i < domains.size(); i++) {
            int[][] c = candidates.get(i);
            if (c.length < 2) {
                continue;
            }
            double best = Double.NEGATIVE_INFINITY;
            for (int[] candidate : c) {
                double worse =
                        Math.min(estimates.get(next).bound(), estimates.get(next + 1).bound());
                next += 2;
                if (worse > best) {
                    best = worse;
                    choices[i] = candidate;
                }
            }
        }
        return choices;
    }

    /**
     * Up to {@link #FSB_CANDIDATES} unstable neurons, {relu index, neuron}, best first by the
     * intercept score of BaBSR (Bunel et al. 2020): |a_k| u (-l) / (u - l), the neuron's
     * coefficient in the optimised row times the widest gap of its triangle. Where every
     * coefficient is zero, the neuron with the widest triangle alone; none when no neuron is
     * unstable.
     */
    private int[][] candidates(Domain d) {
        List<double[]> scored = new ArrayList<>();
        double widest = -1;
        int[] widestChoice = null;
        for (int r = 0; r < d.reluInputs().size(); r++) {
            double[][] b = d.reluInputs().get(r);
            double[] a = d.reluCoefficients()[reluSourceLayer[r] + 1];
            for (int k = 0; k < b[0].length; k++) {
                double l = b[0][k];
                double u = b[1][k];
                if (l < 0 && u > 0) {
                    double gap = u * (-l) / (u - l);
                    double score = a == null ? 0 : Math.abs(a[k]) * gap;
                    if (score > 0) {
                        scored.add(new double[] {score, r, k});
                    }
                    if (gap > widest) {
                        widest = gap;
                        widestChoice = new int[] {r, k};
                    }
                }
            }
        }
        if (scored.isEmpty()) {
            return widestChoice == null ? new int[0][] : new int[][] {widestChoice};
        }
        scored.sort((x, y) -> Double.compare(y[0], x[0]));
        int n = Math.min(FSB_CANDIDATES, scored.size());
        int[][] top = new int[n][];
        for (int i = 0; i < n; i++) {
            top[i] = new int[] {(int) scored.get(i)[1], (int) scored.get(i)[2]};
        }
        return top;
    }

    /** The ReLU input bounds with one neuron fixed active (sign 1) or inactive; shares the rest. */
    private static List<double[][]> fixed(List<double[][]> reluInputs, int[] neuron, int sign) {
        List<double[][]> copy = new ArrayList<>(reluInputs);
        double[][] b = reluInputs.get(neuron[0]);
        double[][] layer = {b[0].clone(), b[1].clone()};
        if (sign > 0) {
            layer[0][neuron[1]] = 0;
        } else {
            layer[1][neuron[1]] = 0;
        }
        copy.set(neuron[0], layer);
        return copy;
    }

    /** A subdomain without unstable neurons: proved, or refuted by a witness, or neither. */
    private record Leaf(boolean proved, double[] witness) {}

    /** Multipliers optimised long on a subdomain without unstable neurons. */
    private Leaf leaf(Box box, OutputSpec spec, Domain d, double[][] magnitude) {
        double[] witness = null;
        for (LinearConstraint c : spec.disjuncts().get(0)) {
            AlphaBetaCrown.Optimised o =
                    optimiser.optimise(
                            box,
                            d.reluInputs(),
                            d.splits(),
                            c,
                            d.multipliers(),
                            LEAF_ITERATIONS,
                            magnitude);
            if (o.bound() > c.bound()) {
                return new Leaf(true, null);
            }
            if (witness == null && Witnesses.isCounterexample(network, box, spec, o.minimiser())) {
                witness = o.minimiser();
            }
        }
        if (witness == null) {
            witness =
                    leafLp.candidate(box, d.reluInputs(), spec.disjuncts().get(0))
                            .filter(p -> Witnesses.isCounterexample(network, box, spec, p))
                            .orElse(null);
        }
        return new Leaf(false, witness);
    }
}
