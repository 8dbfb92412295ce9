package org.robustflow.milp;

import com.google.ortools.linearsolver.MPObjective;
import com.google.ortools.linearsolver.MPSolver;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Minimises a {@link PropertyNetwork}'s objective exactly with OR-Tools, and re-checks the witness.
 */
public final class PropertySolver {
    /**
     * The solve's outcome; {@code witness} holds every node's value recomputed in double at the
     * inputs found.
     */
    public record Result(
            MPSolver.ResultStatus status,
            double optimum,
            Map<String, Double> witness,
            double witnessObjective,
            int binaries) {
        /** The property "objective &gt; 0" holds when the proven minimum is positive. */
        public boolean holds() {
            return status == MPSolver.ResultStatus.OPTIMAL && optimum > 0;
        }
    }

    private PropertySolver() {}

    public static Result minimize(PropertyNetwork network, String backend, long timeLimitMs) {
        MPSolver solver = Solvers.create(backend);
        try {
            solver.setTimeLimit(timeLimitMs);
            Map<String, double[]> bounds = network.intervalBounds();
            Encoders encoders = new Encoders(solver);
            Map<String, Encoders.Bounded> vars = new HashMap<>();
            List<String> inputIds = new ArrayList<>();
            for (PropertyNetwork.Node n : network.nodes()) {
                double[] b = bounds.get(n.id());
                Encoders.Bounded v =
                        switch (n.op()) {
                            case INPUT -> {
                                inputIds.add(n.id());
                                yield new Encoders.Bounded(
                                        solver.makeNumVar(b[0], b[1], n.id()), b[0], b[1]);
                            }
                            case AFFINE -> {
                                List<Encoders.Bounded> ins = new ArrayList<>();
                                double[] w = new double[n.terms().size()];
                                int k = 0;
                                for (Map.Entry<String, Double> t : n.terms().entrySet()) {
                                    ins.add(vars.get(t.getKey()));
                                    w[k++] = t.getValue();
                                }
                                yield encoders.affine(ins, w, n.constant(), b[0], b[1], n.id());
                            }
                            case RELU -> encoders.relu(vars.get(n.inputs().get(0)), n.id());
                            case MAX ->
                                    encoders.max(
                                            n.inputs().stream().map(vars::get).toList(), n.id());
                        };
                vars.put(n.id(), v);
            }
            MPObjective objective = solver.objective();
            for (Map.Entry<String, Double> t : network.objective().entrySet()) {
                objective.setCoefficient(vars.get(t.getKey()).variable(), t.getValue());
            }
            objective.setOffset(network.objectiveConstant());
            objective.setMinimization();
            int binaries = encoders.binaries();
            MPSolver.ResultStatus status = solver.solve();
            if (status != MPSolver.ResultStatus.OPTIMAL
                    && status != MPSolver.ResultStatus.FEASIBLE) {
                return new Result(status, Double.NaN, Map.of(), Double.NaN, binaries);
            }
            Map<String, Double> inputs = new LinkedHashMap<>();
            for (String id : inputIds) {
                double[] b = bounds.get(id);
                // Solvers return values a tolerance outside their bounds: clamp before re-checking.
                inputs.put(
                        id,
                        Math.min(b[1], Math.max(b[0], vars.get(id).variable().solutionValue())));
            }
            Map<String, Double> values = network.evaluate(inputs);
            return new Result(
                    status, objective.value(), values, network.objectiveAt(values), binaries);
        } finally {
            solver.delete();
        }
    }
}
