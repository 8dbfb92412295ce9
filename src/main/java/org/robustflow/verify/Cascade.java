package org.robustflow.verify;

import org.robustflow.attack.Pgd;
import org.robustflow.bab.BranchAndBound;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;

import java.util.Optional;

/**
 * The decision stages after the bounds, for one query (input box, violation): the attack, then -
 * when complete - a stronger attack, branch and bound with alpha/beta-CROWN on every disjunct the
 * bounds left open (alpha-CROWN at its root), and attacks of growing strength while time is left.
 * One implementation for {@code certify}, the job, {@code verify} / {@code vnncomp} and the
 * benchmarks; the bound stage before it is batched by its callers.
 *
 * <p>Every FALSIFIED carries a witness re-checked by {@link org.robustflow.attack.Witnesses} inside
 * the attack or the branch and bound; every CERTIFIED rests on guarded bounds.
 */
public final class Cascade {
    /**
     * How far the cascade goes.
     *
     * @param attack the first attack; the stronger rounds scale it
     * @param complete run branch and bound and further attacks until the query is decided or its
     *     time is up; otherwise stop after the first attack
     * @param timeLimitMs per query, for the complete stages
     * @param threads threads of one query's branch and bound: 1 where queries already run one per
     *     core (certify, the job), the cores where one query runs at a time (verify, vnncomp)
     * @param maxDomains subdomains the branch and bound of one query may bound (0: no limit): a
     *     work budget, so that an answer reached before the time limit does not depend on load
     */
    public record Settings(
            Pgd.Settings attack, boolean complete, long timeLimitMs, int threads, long maxDomains)
            implements java.io.Serializable {
        public Settings {
            if (threads < 1 || maxDomains < 0) {
                throw new IllegalArgumentException(
                        "threads must be >= 1 and the domain budget >= 0, were "
                                + threads
                                + " and "
                                + maxDomains);
            }
        }

        /** The attack alone: what a stream stage can afford per query. */
        public static Settings incomplete(Pgd.Settings attack) {
            return new Settings(attack, false, 0, 1, 0);
        }

        /** Every stage, at most {@code timeLimitMs} per query, on one thread. */
        public static Settings complete(Pgd.Settings attack, long timeLimitMs) {
            return new Settings(attack, true, timeLimitMs, 1, 0);
        }

        /** These settings with {@code threads} threads per query. */
        public Settings withThreads(int threads) {
            return new Settings(attack, complete, timeLimitMs, threads, maxDomains);
        }

        /** These settings with a budget of {@code maxDomains} subdomains per query (0: none). */
        public Settings withMaxDomains(long maxDomains) {
            return new Settings(attack, complete, timeLimitMs, threads, maxDomains);
        }
    }

    /**
     * What the stages after the bounds found.
     *
     * @param method pgd, alpha-crown, bab or none
     * @param witness the re-checked counterexample when FALSIFIED, else null
     */
    public record Answer(Verdict verdict, String method, double[] witness) {}

    /** Attack rounds after the first two: restarts and steps grow until the time runs out. */
    private static final int MAX_ATTACK_ROUNDS = 6;

    private final Network network;
    private final Settings settings;

    /** Steps of {@link #quickAttack}. */
    public static final int QUICK_STEPS = 10;

    private final Pgd first;
    private final Pgd quick;
    private final BranchAndBound bab;

    public Cascade(Network network, Settings settings) {
        this.network = network;
        this.settings = settings;
        this.first = new Pgd(network, settings.attack());
        Pgd.Settings a = settings.attack();
        this.quick =
                new Pgd(
                        network,
                        new Pgd.Settings(
                                Math.min(QUICK_STEPS, a.steps()),
                                1,
                                a.stepFraction(),
                                a.seed(),
                                a.adaptive()));
        this.bab =
                new BranchAndBound(
                        network,
                        BranchAndBound.Settings.defaults()
                                .withThreads(settings.threads())
                                .withMaxDomains(settings.maxDomains()));
    }

    public Network model() {
        return network;
    }

    public Settings settings() {
        return settings;
    }

    /**
     * A short attack before any bounds (the first restart's first {@value #QUICK_STEPS} steps): on
     * the default model it refutes 96% of what the full first attack refutes, at a fraction of the
     * cost of CROWN, which then bounds only the rest.
     */
    public Optional<double[]> quickAttack(double[] x, int label, double eps) {
        return quick.attack(x, label, eps);
    }

    /** The first attack on an MNIST pair (its seed derived from the image, label and eps). */
    public Optional<double[]> attack(double[] x, int label, double eps) {
        return first.attack(x, label, eps);
    }

    /** The first attack on a query (its seed derived from the box). */
    public Optional<double[]> attack(Box box, OutputSpec violation) {
        return first.attack(box, violation);
    }

    /**
     * Decides a query the bounds left open; {@code open} lists the disjuncts of {@code violation}
     * that the bounds did not rule out (all when null).
     *
     * @param firstAttackDone the caller already ran the first attack without success
     */
    public Answer decide(Box box, OutputSpec violation, boolean[] open, boolean firstAttackDone) {
        return decide(
                box,
                violation,
                open,
                firstAttackDone,
                System.nanoTime() + settings.timeLimitMs() * 1_000_000L);
    }

    /** As {@link #decide(Box, OutputSpec, boolean[], boolean)} with an explicit deadline. */
    public Answer decide(
            Box box, OutputSpec violation, boolean[] open, boolean firstAttackDone, long deadline) {
        if (!firstAttackDone) {
            Optional<double[]> w = attack(box, violation);
            if (w.isPresent()) {
                return new Answer(Verdict.FALSIFIED, "pgd", w.get());
            }
        }
        if (!settings.complete()) {
            return new Answer(Verdict.UNKNOWN, "none", null);
        }
        Optional<double[]> w = attack(1).attack(box, violation, deadline);
        if (w.isPresent()) {
            return new Answer(Verdict.FALSIFIED, "pgd", w.get());
        }
        // Branch and bound on the open disjuncts; one it cannot prove leaves the query open.
        BranchAndBound.Outcome o = bab.proveAll(box, violation.disjuncts(), open, deadline);
        if (o.status() == BranchAndBound.Status.FALSIFIED) {
            return new Answer(Verdict.FALSIFIED, "bab", o.witness());
        }
        if (o.status() == BranchAndBound.Status.PROVED) {
            int searched = 0;
            for (int d = 0; d < violation.disjuncts().size(); d++) {
                searched += open == null || open[d] ? 1 : 0;
            }
            // One domain per disjunct: every root proved by optimised slopes without a split.
            return new Answer(
                    Verdict.CERTIFIED, o.domains() > searched ? "bab" : "alpha-crown", null);
        }
        boolean outOfTime = System.nanoTime() > deadline;
        // Counterexamples are often found only by later restarts.
        for (int round = 2; round <= MAX_ATTACK_ROUNDS && System.nanoTime() < deadline; round++) {
            w = attack(round).attack(box, violation, deadline);
            if (w.isPresent()) {
                return new Answer(Verdict.FALSIFIED, "pgd", w.get());
            }
        }
        return new Answer(
                outOfTime || System.nanoTime() > deadline ? Verdict.TIMEOUT : Verdict.UNKNOWN,
                "none",
                null);
    }

    /** Round r &gt;= 1: adaptive targeted restarts, more of them and longer as r grows. */
    private Pgd attack(int round) {
        Pgd.Settings a = settings.attack();
        int scale = 1 << Math.min(round, 4);
        return new Pgd(
                network,
                new Pgd.Settings(
                        a.steps() * 2,
                        Math.max(a.restarts(), network.numClasses()) * scale,
                        a.stepFraction(),
                        a.seed() + round,
                        true));
    }
}
