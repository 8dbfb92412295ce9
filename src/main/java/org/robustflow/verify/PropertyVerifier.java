package org.robustflow.verify;

import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
import org.robustflow.bab.BranchAndBound;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;
import org.robustflow.spec.Property;

import java.util.List;
import java.util.Optional;

/**
 * Decides a property (input regions, each with the output violation searched for in it) the way a
 * VNN-COMP entrant answers an instance: {@code unsat} when guarded CROWN bounds rule out every
 * disjunct of every region, {@code sat} with a re-checked counterexample when an attack finds one,
 * otherwise {@code unknown}, or {@code timeout} when the time limit ran out first.
 *
 * <p>After an attack and CROWN, a stronger attack, then branch and bound ({@link BranchAndBound})
 * on the disjuncts CROWN left open; then attacks of growing strength (more restarts and steps)
 * until the time limit, since sat instances are often found only by later restarts.
 */
public final class PropertyVerifier {
    /** VNN-COMP's answers. */
    public enum Outcome {
        SAT,
        UNSAT,
        TIMEOUT,
        UNKNOWN;

        /** The word VNN-COMP expects in a result file. */
        public String word() {
            return name().toLowerCase();
        }
    }

    /**
     * The answer for one property.
     *
     * @param counterexample the violating input when SAT (re-checked), else null
     * @param outputs the network's outputs at the counterexample, else null
     * @param method what decided it: crown, pgd, or none
     */
    public record Result(
            Outcome outcome,
            double[] counterexample,
            double[] outputs,
            String method,
            long micros) {}

    /** Attack rounds after the first: restarts and steps grow until the time runs out. */
    private static final int MAX_ATTACK_ROUNDS = 6;

    private final Network network;
    private final CrownPropagator crown;
    private final Pgd.Settings attack;
    private final BranchAndBound bab;
    private final boolean useBranchAndBound;

    /** Bounds, attacks and branch and bound. */
    public PropertyVerifier(Network network, Pgd.Settings attack) {
        this(network, attack, true);
    }

    public PropertyVerifier(Network network, Pgd.Settings attack, boolean useBranchAndBound) {
        this.network = network;
        this.crown = new CrownPropagator(network);
        this.attack = attack;
        this.bab = new BranchAndBound(network, BranchAndBound.Settings.defaults());
        this.useBranchAndBound = useBranchAndBound;
    }

    public Network model() {
        return network;
    }

    /** Decides {@code property} within {@code timeLimitMs} (checked between stages). */
    public Result verify(Property property, long timeLimitMs) {
        long start = System.nanoTime();
        long deadline = start + timeLimitMs * 1_000_000L;
        for (Property.Region region : property.regions()) {
            if (region.input().size() != network.inputSize()) {
                throw new IllegalArgumentException(
                        "property has "
                                + region.input().size()
                                + " inputs, network takes "
                                + network.inputSize());
            }
            if (region.violation().outputs() != network.numClasses()) {
                throw new IllegalArgumentException(
                        "property has "
                                + region.violation().outputs()
                                + " outputs, network gives "
                                + network.numClasses());
            }
        }
        // Cheap first: an attack and CROWN on every region; then a stronger attack, branch and
        // bound on what CROWN left open, and attacks of growing strength with the time left.
        int regions = property.regions().size();
        boolean[] proved = new boolean[regions];
        boolean babDone = !useBranchAndBound;
        boolean open = true;
        for (int round = 0; round <= MAX_ATTACK_ROUNDS && open; round++) {
            for (int r = 0; r < regions; r++) {
                if (proved[r]) {
                    continue;
                }
                if (System.nanoTime() > deadline) {
                    return result(Outcome.TIMEOUT, null, "none", start);
                }
                Property.Region region = property.regions().get(r);
                Optional<double[]> witness =
                        attack(round).attack(region.input(), region.violation());
                if (witness.isPresent()) {
                    return result(Outcome.SAT, witness.get(), "pgd", start);
                }
                if (round == 0) {
                    proved[r] = proves(region.input(), region.violation());
                }
            }
            open = !allTrue(proved);
            if (open && round == 1 && !babDone) {
                babDone = true;
                for (int r = 0; r < regions && !proved[r]; r++) {
                    proved[r] = branchAndBound(property.regions().get(r), deadline);
                    if (!proved[r] && System.nanoTime() > deadline) {
                        return result(Outcome.TIMEOUT, null, "none", start);
                    }
                    if (!proved[r]) {
                        break; // one open region decides the property cannot be unsat now
                    }
                }
                if (allTrue(proved)) {
                    return result(Outcome.UNSAT, null, "bab", start);
                }
            }
        }
        if (!open) {
            return result(Outcome.UNSAT, null, "crown", start);
        }
        return result(
                System.nanoTime() > deadline ? Outcome.TIMEOUT : Outcome.UNKNOWN,
                null,
                "none",
                start);
    }

    /** Branch and bound on every disjunct of one region; true when all are proved. */
    private boolean branchAndBound(Property.Region region, long deadline) {
        for (List<LinearConstraint> conjunct : region.violation().disjuncts()) {
            if (bab.prove(region.input(), conjunct, deadline).status()
                    != BranchAndBound.Status.PROVED) {
                return false;
            }
        }
        return true;
    }

    private static boolean allTrue(boolean[] values) {
        for (boolean v : values) {
            if (!v) {
                return false;
            }
        }
        return true;
    }

    /** Whether guarded bounds show that no point of the box satisfies any disjunct. */
    public boolean proves(Box input, OutputSpec violation) {
        CrownPropagator.SpecBounds b = crown.bound(input.lower(), input.upper(), violation);
        int row = 0;
        for (List<LinearConstraint> conjunct : violation.disjuncts()) {
            boolean infeasible = false;
            for (LinearConstraint c : conjunct) {
                // c . y >= rowLower > bound on the whole box: this constraint never holds.
                infeasible |= b.rowLower()[row++] > c.bound();
            }
            if (!infeasible) {
                return false;
            }
        }
        return true;
    }

    private Pgd attack(int round) {
        if (round == 0) {
            return new Pgd(network, attack);
        }
        int scale = 1 << Math.min(round, 4);
        return new Pgd(
                network,
                new Pgd.Settings(
                        attack.steps() * 2,
                        attack.restarts() * scale,
                        attack.stepFraction() / (1 + round % 3),
                        attack.seed() + round));
    }

    private Result result(Outcome outcome, double[] witness, String method, long start) {
        long micros = (System.nanoTime() - start) / 1000;
        if (outcome == Outcome.SAT) {
            // Witnesses.isCounterexample held inside the attack; the outputs go with the answer.
            return new Result(outcome, witness, network.logits(witness), method, micros);
        }
        return new Result(outcome, null, null, method, micros);
    }

    /** The counterexample in VNN-COMP's result format: {@code ((X_0 v) ... (Y_0 v) ...)}. */
    public static String counterexample(double[] x, double[] y) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < x.length; i++) {
            s.append(i == 0 ? "" : "\n ")
                    .append("(X_")
                    .append(i)
                    .append(' ')
                    .append(x[i])
                    .append(')');
        }
        for (int j = 0; j < y.length; j++) {
            s.append("\n (Y_").append(j).append(' ').append(y[j]).append(')');
        }
        return s.append(')').toString();
    }

    /** Guard for callers that want a second, independent look at a SAT answer. */
    public boolean recheck(Property property, double[] point) {
        for (Property.Region region : property.regions()) {
            if (Witnesses.isCounterexample(network, region.input(), region.violation(), point)) {
                return true;
            }
        }
        return false;
    }
}
