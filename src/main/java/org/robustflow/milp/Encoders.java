package org.robustflow.milp;

import com.google.ortools.linearsolver.MPConstraint;
import com.google.ortools.linearsolver.MPSolver;
import com.google.ortools.linearsolver.MPVariable;

import java.util.ArrayList;
import java.util.List;

/**
 * Exact mixed-integer encodings of the layer types on one solver, one method each, in the style of
 * Tjeng et al. 2019 ("Evaluating Robustness of Neural Networks with Mixed Integer Programming",
 * section 4) and MIPVerify.
 *
 * <p>Every encoding takes sound bounds [l, u] of its inputs and derives its big-M constants from
 * them only: a constant big-M that is too small cuts off real points (and so can "prove" false
 * properties); bounds that are sound never do. Each new variable gets its own bounds.
 */
public final class Encoders {
    private final MPSolver solver;
    private int binaries;

    public Encoders(MPSolver solver) {
        this.solver = solver;
    }

    /** Binaries created so far: the size of the combinatorial search. */
    public int binaries() {
        return binaries;
    }

    private MPVariable binary(String name) {
        binaries++;
        return solver.makeBoolVar(name);
    }

    /** A variable with its sound bounds. */
    public record Bounded(MPVariable variable, double lower, double upper) {}

    /** y = sum_i w_i x_i + c, exactly; y's bounds are the caller's (sound bounds of the sum). */
    public Bounded affine(
            List<Bounded> inputs,
            double[] weights,
            double constant,
            double lower,
            double upper,
            String name) {
        MPVariable y = solver.makeNumVar(lower, upper, name);
        MPConstraint c = solver.makeConstraint(constant, constant, name + "_def");
        c.setCoefficient(y, 1);
        for (int i = 0; i < inputs.size(); i++) {
            if (weights[i] != 0) {
                c.setCoefficient(inputs.get(i).variable(), -weights[i]);
            }
        }
        return new Bounded(y, lower, upper);
    }

    /**
     * y = max(0, x). Stable cases need no binary: u &lt;= 0 gives 0, l &gt;= 0 gives x. Otherwise
     * one binary a: y &gt;= x, y &gt;= 0, y &lt;= u a, y &lt;= x - l (1 - a).
     */
    public Bounded relu(Bounded x, String name) {
        double l = x.lower();
        double u = x.upper();
        if (u <= 0) {
            return new Bounded(solver.makeNumVar(0, 0, name), 0, 0);
        }
        if (l >= 0) {
            return x;
        }
        MPVariable y = solver.makeNumVar(0, u, name);
        MPVariable a = binary(name + "_active");
        // y >= x
        MPConstraint c1 = solver.makeConstraint(0, MPSolver.infinity(), name + "_ge_x");
        c1.setCoefficient(y, 1);
        c1.setCoefficient(x.variable(), -1);
        // y <= u a
        MPConstraint c2 = solver.makeConstraint(-MPSolver.infinity(), 0, name + "_le_ua");
        c2.setCoefficient(y, 1);
        c2.setCoefficient(a, -u);
        // y <= x - l (1 - a)  <=>  y - x - l a <= -l
        MPConstraint c3 = solver.makeConstraint(-MPSolver.infinity(), -l, name + "_le_x");
        c3.setCoefficient(y, 1);
        c3.setCoefficient(x.variable(), -1);
        c3.setCoefficient(a, -l);
        return new Bounded(y, 0, u);
    }

    /**
     * y = max_i x_i. Inputs whose upper bound is at most the largest lower bound can never be the
     * strict maximum and are dropped (the one with that largest lower bound stays). One remaining
     * input is the output; otherwise one binary per input, sum a_i = 1, y &gt;= x_i and y &lt;= x_i
     * + (1 - a_i) (max_{j != i} u_j - l_i).
     */
    public Bounded max(List<Bounded> inputs, String name) {
        double largestLower = Double.NEGATIVE_INFINITY;
        int argLargestLower = -1;
        for (int i = 0; i < inputs.size(); i++) {
            if (inputs.get(i).lower() > largestLower) {
                largestLower = inputs.get(i).lower();
                argLargestLower = i;
            }
        }
        List<Bounded> candidates = new ArrayList<>();
        for (int i = 0; i < inputs.size(); i++) {
            if (i == argLargestLower || inputs.get(i).upper() > largestLower) {
                candidates.add(inputs.get(i));
            }
        }
        if (candidates.size() == 1) {
            return candidates.get(0);
        }
        double upper = Double.NEGATIVE_INFINITY;
        for (Bounded c : candidates) {
            upper = Math.max(upper, c.upper());
        }
        MPVariable y = solver.makeNumVar(largestLower, upper, name);
        MPConstraint oneActive = solver.makeConstraint(1, 1, name + "_one");
        for (int i = 0; i < candidates.size(); i++) {
            Bounded xi = candidates.get(i);
            double otherUpper = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < candidates.size(); j++) {
                if (j != i) {
                    otherUpper = Math.max(otherUpper, candidates.get(j).upper());
                }
            }
            double bigM = Math.max(0, otherUpper - xi.lower());
            MPVariable a = binary(name + "_is_" + i);
            oneActive.setCoefficient(a, 1);
            // y >= x_i
            MPConstraint ge = solver.makeConstraint(0, MPSolver.infinity(), name + "_ge_" + i);
            ge.setCoefficient(y, 1);
            ge.setCoefficient(xi.variable(), -1);
            // y <= x_i + (1 - a_i) M  <=>  y - x_i + M a_i <= M
            MPConstraint le = solver.makeConstraint(-MPSolver.infinity(), bigM, name + "_le_" + i);
            le.setCoefficient(y, 1);
            le.setCoefficient(xi.variable(), -1);
            le.setCoefficient(a, bigM);
        }
        return new Bounded(y, largestLower, upper);
    }
}
