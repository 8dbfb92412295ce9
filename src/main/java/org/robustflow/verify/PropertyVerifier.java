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
 * <p>An attack and CROWN on every region first, then the rest of the {@link Cascade} (a stronger
 * attack, branch and bound with alpha/beta-CROWN on the disjuncts CROWN left open, attacks of
 * growing strength) on each region still open, until the time limit.
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
     * @param method what decided it: crown, alpha-crown, bab, pgd, or none
     */
    public record Result(
            Outcome outcome,
            double[] counterexample,
            double[] outputs,
            String method,
            long micros) {}

    private final Network network;
    private final CrownPropagator crown;
    private final Cascade cascade;

    /** Bounds, attacks and branch and bound, on one thread. */
    public PropertyVerifier(Network network, Pgd.Settings attack) {
        this(network, attack, true, 1);
    }

    /**
     * With {@code complete} false: bounds and the first attack only; branch and bound on {@code
     * threads} threads.
     */
    public PropertyVerifier(Network network, Pgd.Settings attack, boolean complete, int threads) {
        this.network = network;
        this.crown = new CrownPropagator(network);
        this.cascade =
                new Cascade(
                        network,
                        (complete
                                        ? Cascade.Settings.complete(
                                                attack, Long.MAX_VALUE / 4_000_000L)
                                        : Cascade.Settings.incomplete(attack))
                                .withThreads(threads));
    }

    public Network model() {
        return network;
    }

    /** Decides {@code property} within {@code timeLimitMs}. */
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
        // Cheap first on every region: the attack and CROWN; then the rest of the cascade on the
        // regions CROWN left open.
        List<Property.Region> regions = property.regions();
        boolean[][] open = new boolean[regions.size()][];
        for (int r = 0; r < regions.size(); r++) {
            if (System.nanoTime() > deadline) {
                return result(Outcome.TIMEOUT, null, "none", start);
            }
            Property.Region region = regions.get(r);
            Optional<double[]> witness = cascade.attack(region.input(), region.violation());
            if (witness.isPresent()) {
                return result(Outcome.SAT, witness.get(), "pgd", start);
            }
            open[r] = openDisjuncts(region.input(), region.violation());
        }
        String method = "crown";
        for (int r = 0; r < regions.size(); r++) {
            if (!any(open[r])) {
                continue;
            }
            Property.Region region = regions.get(r);
            Cascade.Answer a =
                    cascade.decide(region.input(), region.violation(), open[r], true, deadline);
            switch (a.verdict()) {
                case FALSIFIED:
                    return result(Outcome.SAT, a.witness(), a.method(), start);
                case CERTIFIED:
                    method = a.method();
                    break;
                case TIMEOUT:
                    return result(Outcome.TIMEOUT, null, "none", start);
                default:
                    return result(Outcome.UNKNOWN, null, "none", start);
            }
        }
        return result(Outcome.UNSAT, null, method, start);
    }

    private static boolean any(boolean[] values) {
        for (boolean v : values) {
            if (v) {
                return true;
            }
        }
        return false;
    }

    /** Per disjunct: whether the guarded CROWN bounds leave it possible somewhere in the box. */
    private boolean[] openDisjuncts(Box input, OutputSpec violation) {
        CrownPropagator.SpecBounds b = crown.bound(input.lower(), input.upper(), violation);
        boolean[] open = new boolean[violation.disjuncts().size()];
        int row = 0;
        for (int d = 0; d < open.length; d++) {
            boolean infeasible = false;
            for (LinearConstraint c : violation.disjuncts().get(d)) {
                // c . y >= rowLower > bound on the whole box: this constraint never holds.
                infeasible |= b.rowLower()[row++] > c.bound();
            }
            open[d] = !infeasible;
        }
        return open;
    }

    /** Whether guarded bounds show that no point of the box satisfies any disjunct. */
    public boolean proves(Box input, OutputSpec violation) {
        return !any(openDisjuncts(input, violation));
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
