package org.robustflow.cli;

import org.robustflow.milp.PropertyNetwork;
import org.robustflow.milp.PropertySolver;
import org.robustflow.milp.Solvers;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code verify-property}: exact MILP minimisation of a small network's objective (milp-dag/1).
 *
 * <pre>{@code
 * ./robustflow verify-property examples/toy-maxpool.json
 * }</pre>
 */
@Command(
        name = "verify-property",
        mixinStandardHelpOptions = true,
        description =
                "Minimise a small network's objective exactly (MILP, OR-Tools) and say whether 'objective > 0' holds.")
public final class VerifyPropertyCommand implements Callable<Integer> {
    @Parameters(
            index = "0",
            description =
                    "Network and objective in milp-dag/1 JSON (see examples/toy-maxpool.json).")
    Path file;

    @Option(
            names = "--solver",
            defaultValue = Solvers.DEFAULT_BACKEND,
            description = "OR-Tools backend (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(
            names = "--time-limit",
            defaultValue = "60",
            description = "Seconds (default: ${DEFAULT-VALUE}).")
    long seconds;

    @Override
    public Integer call() throws Exception {
        PropertyNetwork network;
        try (InputStream in = Files.newInputStream(file)) {
            network = PropertyNetwork.read(in);
        } catch (java.io.IOException e) {
            System.err.println("error: " + file + ": " + e.getMessage());
            return 2;
        }
        PropertySolver.Result r = PropertySolver.minimize(network, backend, seconds * 1000);
        System.out.println("status     " + r.status() + " (" + r.binaries() + " binaries)");
        if (r.witness().isEmpty()) {
            System.out.println("no solution");
            return 1;
        }
        System.out.printf(Locale.ROOT, "minimum    %.6f%n", r.optimum());
        System.out.print("witness   ");
        for (Map.Entry<String, Double> e : r.witness().entrySet()) {
            System.out.printf(Locale.ROOT, " %s=%.6f", e.getKey(), e.getValue());
        }
        System.out.println();
        System.out.printf(
                Locale.ROOT, "re-checked objective at the witness: %.6f%n", r.witnessObjective());
        System.out.println(
                "property   objective > 0 "
                        + (r.holds() ? "HOLDS" : "does NOT hold (or not proven)"));
        return 0;
    }
}
