package org.robustflow.bab;

import com.google.ortools.linearsolver.MPConstraint;
import com.google.ortools.linearsolver.MPObjective;
import com.google.ortools.linearsolver.MPSolver;
import com.google.ortools.linearsolver.MPVariable;
import org.robustflow.milp.Solvers;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.model.ReluLayer;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;

import java.util.List;
import java.util.Optional;

/**
 * A candidate counterexample on a subdomain where every ReLU is decided: there the network is
 * linear, so the point of the subdomain that violates the conjunction most is the solution of one
 * LP (GLOP): minimise t subject to c_r . y(x) - bound_r &lt;= t for every constraint r, x in the
 * box, and each neuron on the side of its decision. The LP only proposes; the caller re-checks the
 * point on the real network ({@link org.robustflow.attack.Witnesses}) before it counts, so the
 * solver's tolerances never decide an answer.
 */
final class LeafLp {
    private final Network network;

    LeafLp(Network network) {
        this.network = network;
    }

    /**
     * The LP's most violating point, clamped into the box, when the LP says some point violates;
     * empty when it finds none or fails.
     *
     * @param reluInputs {lower, upper} of each ReLU's input on the subdomain (all stable)
     */
    Optional<double[]> candidate(
            Box box, List<double[][]> reluInputs, List<LinearConstraint> conjunct) {
        MPSolver solver = Solvers.create("GLOP");
        try {
            int n = box.size();
            MPVariable[] x = new MPVariable[n];
            for (int k = 0; k < n; k++) {
                x[k] = solver.makeNumVar(box.lower(k), box.upper(k), "x" + k);
            }
            // Each layer's outputs as LP variables; a ReLU's are its inputs or zero.
            MPVariable[] h = x;
            int relu = 0;
            double inf = MPSolver.infinity();
            for (Layer layer : network.layers()) {
                if (layer instanceof ReluLayer) {
                    double[][] in = reluInputs.get(relu++);
                    MPVariable[] out = new MPVariable[h.length];
                    for (int k = 0; k < h.length; k++) {
                        if (in[0][k] >= 0) {
                            MPConstraint c = solver.makeConstraint(0, inf);
                            c.setCoefficient(h[k], 1);
                            out[k] = h[k];
                        } else if (in[1][k] <= 0) {
                            MPConstraint c = solver.makeConstraint(-inf, 0);
                            c.setCoefficient(h[k], 1);
                            out[k] = null; // zero
                        } else {
                            return Optional.empty(); // not a leaf
                        }
                    }
                    h = out;
                } else if (layer instanceof DenseLayer dense) {
                    MPVariable[] out = new MPVariable[dense.outputSize()];
                    for (int o = 0; o < out.length; o++) {
                        out[o] = solver.makeNumVar(-inf, inf, "");
                        MPConstraint c = solver.makeConstraint(dense.bias(o), dense.bias(o));
                        c.setCoefficient(out[o], 1);
                        for (int k = 0; k < h.length; k++) {
                            if (h[k] != null) {
                                c.setCoefficient(h[k], -dense.weight(o, k));
                            }
                        }
                    }
                    h = out;
                } else if (layer instanceof ElementwiseAffineLayer affine) {
                    MPVariable[] out = new MPVariable[h.length];
                    for (int k = 0; k < h.length; k++) {
                        out[k] = solver.makeNumVar(-inf, inf, "");
                        MPConstraint c = solver.makeConstraint(affine.shift(k), affine.shift(k));
                        c.setCoefficient(out[k], 1);
                        if (h[k] != null) {
                            c.setCoefficient(h[k], -affine.scale(k));
                        }
                    }
                    h = out;
                } else {
                    return Optional.empty();
                }
            }
            MPVariable t = solver.makeNumVar(-inf, inf, "t");
            for (LinearConstraint row : conjunct) {
                MPConstraint c = solver.makeConstraint(-inf, row.bound());
                c.setCoefficient(t, -1);
                for (int j = 0; j < h.length; j++) {
                    if (h[j] != null) {
                        c.setCoefficient(h[j], row.coefficient(j));
                    }
                }
            }
            MPObjective objective = solver.objective();
            objective.setCoefficient(t, 1);
            objective.setMinimization();
            if (solver.solve() != MPSolver.ResultStatus.OPTIMAL || t.solutionValue() > 0) {
                return Optional.empty();
            }
            double[] point = new double[n];
            for (int k = 0; k < n; k++) {
                point[k] = Math.min(box.upper(k), Math.max(box.lower(k), x[k].solutionValue()));
            }
            return Optional.of(point);
        } finally {
            solver.delete();
        }
    }
}
