package org.robustflow.verify;

import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
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
 * <p>The attack runs in rounds of growing strength (more restarts and steps) until the time limit,
 * since every round is cheap and sat instances are often found only by later restarts.
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

    public PropertyVerifier(Network network, Pgd.Settings attack) {
        this.network = network;
        this.crown = new CrownPropagator(network);
        this.attack = attack;
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
        // Cheap first: the clean attack on every region, then bounds, then stronger attacks.
        boolean[] proved = new boolean[property.regions().size()];
        for (int round = 0; round <= MAX_ATTACK_ROUNDS; round++) {
            boolean open = false;
            for (int r = 0; r < proved.length; r++) {
                if (proved[r]) {
                    continue;
                }
                if (System.nanoTime() > deadline) {
                    return result(Outcome.TIMEOUT, null, "none", start);
                }
                Property.Region region = property.regions().get(r);
                Optional<double[]> witness =
                        attack(region, round).attack(region.input(), region.violation());
                if (witness.isPresent()) {
                    return result(Outcome.SAT, witness.get(), "pgd", start);
                }
                if (round == 0) {
                    proved[r] = proves(region.input(), region.violation());
                }
                open |= !proved[r];
            }
            if (!open) {
                return result(Outcome.UNSAT, null, "crown", start);
            }
        }
        return result(Outcome.UNKNOWN, null, "none", start);
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

    private Pgd attack(Property.Region region, int round) {
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
