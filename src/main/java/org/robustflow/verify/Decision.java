package org.robustflow.verify;

import org.robustflow.bounds.Verdict;

/**
 * The final word on one (image, eps) pair and the stage that gave it.
 *
 * @param method box, crown, pgd or milp
 * @param witness a re-checked counterexample when the verdict is FALSIFIED, else null
 * @param witnessClass the class the network gives the witness, -1 without one
 * @param micros time spent on the pair across stages
 */
public record Decision(
        Verdict verdict,
        String method,
        int predicted,
        double marginLowerBound,
        int unstableRelus,
        long micros,
        double[] witness,
        int witnessClass) {}
