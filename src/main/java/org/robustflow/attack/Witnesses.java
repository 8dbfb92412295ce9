package org.robustflow.attack;

import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

/**
 * The re-check every counterexample passes before it is reported, whichever method proposed it: the
 * point lies in the box (exactly, no tolerance) and our double forward pass shows a violation
 * larger than that pass's proven rounding error, so no rounding can have made it up.
 */
public final class Witnesses {
    private static final double UNIT_ROUNDOFF = 0x1p-53;

    private Witnesses() {}

    /** The disjunct of {@code spec} that {@code point} violates beyond rounding, or -1. */
    public static int violatedDisjunct(Network network, Box box, OutputSpec spec, double[] point) {
        if (point == null || !box.contains(point)) {
            return -1;
        }
        double[][] out = network.logitsWithErrorBound(point);
        double[] y = out[0];
        double[] error = out[1];
        for (int d = 0; d < spec.disjuncts().size(); d++) {
            boolean all = true;
            for (LinearConstraint c : spec.disjuncts().get(d)) {
                if (!holdsBeyondRounding(c, y, error)) {
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

    /** Whether {@code point} is a counterexample: see {@link #violatedDisjunct}. */
    public static boolean isCounterexample(
            Network network, Box box, OutputSpec spec, double[] point) {
        return violatedDisjunct(network, box, spec, point) >= 0;
    }

    /**
     * c . y &lt;= bound for the exact outputs: the computed slack exceeds what the output errors
     * and the slack's own rounding (gamma_{m+1} of its terms' magnitudes, doubled) can account for.
     */
    static boolean holdsBeyondRounding(LinearConstraint c, double[] y, double[] error) {
        double slack = c.slack(y);
        double uncertainty = 0;
        double magnitude = Math.abs(c.bound());
        for (int k = 0; k < y.length; k++) {
            double ck = Math.abs(c.coefficient(k));
            uncertainty += ck * error[k];
            magnitude += ck * Math.abs(y[k]);
        }
        uncertainty += 2 * (y.length + 2) * UNIT_ROUNDOFF * magnitude;
        return slack > 2 * uncertainty;
    }
}
