package org.robustflow.milp;

import org.robustflow.bounds.Verdict;

/**
 * The outcome of an exact robustness query.
 *
 * @param verdict CERTIFIED, FALSIFIED (with a re-checked witness), TIMEOUT or UNKNOWN
 * @param witness pixels in [0,1] when FALSIFIED, else null
 * @param witnessClass the class the network gives the witness, -1 without one
 * @param marginsSolved margins that needed a MILP (the others were proven by the bounds)
 * @param binaries binaries in the encoding (unstable ReLUs)
 */
public record MilpResult(
        Verdict verdict,
        double[] witness,
        int witnessClass,
        int marginsSolved,
        int binaries,
        long micros,
        String detail) {}
