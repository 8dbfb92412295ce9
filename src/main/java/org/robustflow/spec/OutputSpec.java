package org.robustflow.spec;

import java.util.ArrayList;
import java.util.List;

/**
 * What a violation of a property looks like on the outputs: a disjunction of conjunctions of linear
 * constraints (VNN-LIB's normal form). A point of the input box whose outputs satisfy every
 * constraint of some conjunct is a counterexample; the property holds ("unsat") when no point does.
 */
public record OutputSpec(int outputs, List<List<LinearConstraint>> disjuncts) {
    public OutputSpec {
        if (disjuncts.isEmpty()) {
            throw new IllegalArgumentException("a violation needs at least one disjunct");
        }
        List<List<LinearConstraint>> copy = new ArrayList<>();
        for (List<LinearConstraint> conjunct : disjuncts) {
            if (conjunct.isEmpty()) {
                throw new IllegalArgumentException("a disjunct needs at least one constraint");
            }
            for (LinearConstraint c : conjunct) {
                if (c.outputs() != outputs) {
                    throw new IllegalArgumentException(
                            "constraint over " + c.outputs() + " outputs in a spec of " + outputs);
                }
            }
            copy.add(List.copyOf(conjunct));
        }
        disjuncts = List.copyOf(copy);
    }

    /**
     * The robustness violation for a classifier: some other output is at least the label's, one
     * disjunct {@code y_j - y_label >= 0} per class j != label.
     */
    public static OutputSpec robustness(int outputs, int label) {
        if (label < 0 || label >= outputs) {
            throw new IllegalArgumentException("label " + label + " outside 0.." + (outputs - 1));
        }
        List<List<LinearConstraint>> disjuncts = new ArrayList<>();
        for (int j = 0; j < outputs; j++) {
            if (j != label) {
                disjuncts.add(List.of(LinearConstraint.atLeast(outputs, j, label)));
            }
        }
        return new OutputSpec(outputs, disjuncts);
    }

    /**
     * The label if this is exactly {@link #robustness}'s form for some label (in any order), else
     * -1. Lets the bound methods use their margin shortcut.
     */
    public int robustnessLabel() {
        for (int label = 0; label < outputs; label++) {
            if (disjuncts.size() == outputs - 1 && matchesRobustness(label)) {
                return label;
            }
        }
        return -1;
    }

    private boolean matchesRobustness(int label) {
        List<List<LinearConstraint>> expected = robustness(outputs, label).disjuncts();
        return disjuncts.containsAll(expected) && expected.containsAll(disjuncts);
    }

    /** Whether outputs {@code y} satisfy every constraint of some disjunct (plain double test). */
    public boolean isViolatedBy(double[] y) {
        return violationDisjunct(y, 0) >= 0;
    }

    /**
     * The first disjunct whose every constraint holds with slack at least {@code minSlack}, or -1.
     * A positive {@code minSlack} demands a violation that rounding cannot explain away.
     */
    public int violationDisjunct(double[] y, double minSlack) {
        for (int d = 0; d < disjuncts.size(); d++) {
            boolean all = true;
            for (LinearConstraint c : disjuncts.get(d)) {
                if (!(c.slack(y) >= minSlack)) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return d;
            }
        }
        return -1;
    }
}
