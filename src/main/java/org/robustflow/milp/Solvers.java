package org.robustflow.milp;

import com.google.ortools.Loader;
import com.google.ortools.linearsolver.MPSolver;

/**
 * Creates OR-Tools solvers. SCIP is the default backend: measured on this project's machine, CBC is
 * much weaker on these models, CP-SAT rejects continuous narrow boxes (MODEL_INVALID) and HiGHS
 * through MPSolver throws on a time-limit status, so no partial answer can be read.
 */
public final class Solvers {
    public static final String DEFAULT_BACKEND = "SCIP";
    private static volatile boolean loaded;

    private Solvers() {}

    /** A new solver; the caller must {@link MPSolver#delete()} it to free native memory. */
    public static MPSolver create(String backend) {
        if (!loaded) {
            synchronized (Solvers.class) {
                if (!loaded) {
                    Loader.loadNativeLibraries();
                    loaded = true;
                }
            }
        }
        MPSolver solver = MPSolver.createSolver(backend);
        if (solver == null) {
            throw new IllegalStateException("OR-Tools has no " + backend + " backend here");
        }
        return solver;
    }
}
