package org.robustflow.milp;

import com.google.ortools.linearsolver.MPConstraint;
import com.google.ortools.linearsolver.MPObjective;
import com.google.ortools.linearsolver.MPSolver;
import org.robustflow.attack.Witnesses;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The robustness query as a MILP on OR-Tools (SCIP by default), one model per query, encoded layer
 * by layer ({@link NetworkEncoding}) for any layer sequence.
 *
 * <p>Two formulations, per margin j != y that the bounds leave unproven:
 *
 * <ul>
 *   <li>{@link Formulation#FEASIBILITY} (default): is there a point with logit_y - logit_j &lt;=
 *       tol? No objective. Infeasible proves the margin; a feasible point is a candidate
 *       counterexample.
 *   <li>{@link Formulation#MINIMIZE}: minimise logit_y - logit_j; a proven lower bound &gt; 0
 *       proves the margin, a point with a negative value is a candidate.
 * </ul>
 *
 * <p><b>Tolerances.</b> SCIP accepts constraint violations up to its feasibility tolerance (1e-6),
 * so "infeasible" could miss points that only barely exist. The margin constraint is therefore
 * loosened to &lt;= +{@link #MARGIN_SLACK}: every real point with margin &lt;= 0 satisfies it with
 * room to spare, and infeasibility is a proof. The price is candidates near a tie, which is why
 * every candidate is clamped into the exact box and re-checked by {@link Witnesses}: only a point
 * that the network really misclassifies makes FALSIFIED. A candidate that fails the re-check (the
 * first feasible point often sits on the slack boundary, a tie) is followed by one more solve
 * asking for margin &lt;= -{@link #COUNTEREXAMPLE_MARGIN}; if that finds nothing the pair stays
 * UNKNOWN. A candidate the solver claimed with a clearly negative margin is logged as an error,
 * since it means the encoding or the solver is wrong.
 */
public final class ScipMilpVerifier implements MilpVerifier {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(ScipMilpVerifier.class);
    static final double MARGIN_SLACK = 1e-6;

    /** Margin asked for when the first candidate was a tie. */
    static final double COUNTEREXAMPLE_MARGIN = 1e-4;

    /** How each margin is asked. */
    public enum Formulation {
        FEASIBILITY,
        MINIMIZE
    }

    private final Formulation formulation;
    private final String backend;

    public ScipMilpVerifier() {
        this(Formulation.FEASIBILITY, Solvers.DEFAULT_BACKEND);
    }

    public ScipMilpVerifier(Formulation formulation, String backend) {
        this.formulation = formulation;
        this.backend = backend;
    }

    @Override
    public MilpResult verify(
            Network network,
            double[] x,
            int label,
            double eps,
            CrownPropagator.RowBounds bounds,
            long timeLimitMs) {
        long start = System.nanoTime();
        long deadline = start / 1_000_000 + timeLimitMs;
        double[][] box = InputBox.of(x, eps);
        MPSolver solver = Solvers.create(backend);
        try {
            Encoders encoders = new Encoders(solver);
            NetworkEncoding encoding;
            try {
                encoding =
                        NetworkEncoding.encode(
                                solver, encoders, network, box, bounds.hiddenPreActivations());
            } catch (IllegalArgumentException e) {
                // Bounds that do not fit this box would make the model infeasible: no answer.
                return new MilpResult(
                        Verdict.UNKNOWN,
                        null,
                        -1,
                        0,
                        0,
                        (System.nanoTime() - start) / 1000,
                        "not encoded: " + e.getMessage());
            }
            List<Encoders.Bounded> inputs = encoding.inputs();
            List<Encoders.Bounded> logits = encoding.outputs();

            int solved = 0;
            boolean timedOut = false;
            boolean undecided = false;
            MPObjective objective = solver.objective();
            for (int j = 0; j < network.numClasses(); j++) {
                if (j == label || bounds.marginLower()[j] > 0) {
                    continue;
                }
                long remaining = deadline - System.nanoTime() / 1_000_000;
                if (remaining <= 0) {
                    timedOut = true;
                    break;
                }
                solved++;
                solver.setTimeLimit(remaining);
                MPConstraint margin = null;
                objective.clear();
                if (formulation == Formulation.FEASIBILITY) {
                    // logit_y - logit_j <= slack
                    margin =
                            solver.makeConstraint(
                                    -MPSolver.infinity(), MARGIN_SLACK, "margin_" + j);
                    margin.setCoefficient(logits.get(label).variable(), 1);
                    margin.setCoefficient(logits.get(j).variable(), -1);
                } else {
                    objective.setCoefficient(logits.get(label).variable(), 1);
                    objective.setCoefficient(logits.get(j).variable(), -1);
                    objective.setMinimization();
                }
                MPSolver.ResultStatus status = solver.solve();
                boolean hasPoint =
                        status == MPSolver.ResultStatus.OPTIMAL
                                || status == MPSolver.ResultStatus.FEASIBLE;
                boolean proven;
                if (formulation == Formulation.FEASIBILITY) {
                    proven = status == MPSolver.ResultStatus.INFEASIBLE;
                } else {
                    proven = hasPoint && objective.bestBound() > MARGIN_SLACK;
                    hasPoint = hasPoint && objective.value() <= MARGIN_SLACK;
                }
                // Read the point before touching the model: OR-Tools drops the solution on any
                // change.
                double[] point = hasPoint ? candidate(inputs, box) : null;
                if (proven) {
                    if (margin != null) {
                        margin.setBounds(
                                -MPSolver.infinity(),
                                MPSolver.infinity()); // off for the next margin
                    }
                    continue;
                }
                if (hasPoint) {
                    MilpResult hit =
                            recheck(
                                    network,
                                    x,
                                    label,
                                    eps,
                                    point,
                                    j,
                                    solved,
                                    encoders.binaries(),
                                    start);
                    if (hit == null && margin != null) {
                        // A feasibility solve stops at the first point, often on the slack boundary
                        // itself (a
                        // tie, not a counterexample): ask once more for a clearly negative margin.
                        margin.setBounds(-MPSolver.infinity(), -COUNTEREXAMPLE_MARGIN);
                        solver.setTimeLimit(Math.max(1, deadline - System.nanoTime() / 1_000_000));
                        MPSolver.ResultStatus again = solver.solve();
                        if (again == MPSolver.ResultStatus.OPTIMAL
                                || again == MPSolver.ResultStatus.FEASIBLE) {
                            hit =
                                    recheck(
                                            network,
                                            x,
                                            label,
                                            eps,
                                            candidate(inputs, box),
                                            j,
                                            solved,
                                            encoders.binaries(),
                                            start);
                        }
                    }
                    if (margin != null) {
                        margin.setBounds(-MPSolver.infinity(), MPSolver.infinity());
                    }
                    if (hit != null) {
                        return hit;
                    }
                    undecided = true;
                } else if (margin != null) {
                    margin.setBounds(-MPSolver.infinity(), MPSolver.infinity());
                }
                if (hasPoint) {
                    continue;
                }
                if (status == MPSolver.ResultStatus.NOT_SOLVED
                        || status == MPSolver.ResultStatus.FEASIBLE
                        || status == MPSolver.ResultStatus.OPTIMAL) {
                    timedOut = true;
                } else {
                    undecided = true;
                }
            }
            long micros = (System.nanoTime() - start) / 1000;
            Verdict verdict =
                    timedOut ? Verdict.TIMEOUT : undecided ? Verdict.UNKNOWN : Verdict.CERTIFIED;
            return new MilpResult(
                    verdict,
                    null,
                    -1,
                    solved,
                    encoders.binaries(),
                    micros,
                    formulation.name().toLowerCase());
        } finally {
            solver.delete();
        }
    }

    private static double[] candidate(List<Encoders.Bounded> inputs, double[][] box) {
        double[] c = new double[inputs.size()];
        for (int k = 0; k < c.length; k++) {
            // Solvers return values a tolerance outside the bounds: clamp into the box and [0,1].
            c[k] =
                    Math.min(
                            box[1][k],
                            Math.max(box[0][k], inputs.get(k).variable().solutionValue()));
            c[k] = Math.min(1.0, Math.max(0.0, c[k]));
        }
        return c;
    }

    private MilpResult recheck(
            Network network,
            double[] x,
            int label,
            double eps,
            double[] candidate,
            int target,
            int solved,
            int binaries,
            long start) {
        // The solver's box is widened by InputBox.WIDEN: clamp into the exact box first.
        Box exact = Box.around(x, eps);
        for (int k = 0; k < candidate.length; k++) {
            candidate[k] = Math.min(exact.upper(k), Math.max(exact.lower(k), candidate[k]));
        }
        double[] logits = network.logits(candidate);
        int predicted = Network.argMax(logits);
        OutputSpec violation = OutputSpec.robustness(network.numClasses(), label);
        if (Witnesses.isCounterexample(network, exact, violation, candidate)) {
            return new MilpResult(
                    Verdict.FALSIFIED,
                    candidate,
                    predicted,
                    solved,
                    binaries,
                    (System.nanoTime() - start) / 1000,
                    formulation.name().toLowerCase());
        }
        double margin = logits[label] - logits[target];
        if (margin > 1e-3) {
            LOG.error(
                    "MILP candidate does not re-check (margin logit_{} - logit_{} = {}): encoding or solver error",
                    label,
                    target,
                    margin);
        }
        return null;
    }
}
