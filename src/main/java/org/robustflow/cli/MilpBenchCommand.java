package org.robustflow.cli;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.milp.MilpResult;
import org.robustflow.milp.ScipMilpVerifier;
import org.robustflow.milp.Solvers;
import org.robustflow.model.Network;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;

/**
 * {@code bench-milp}: how the stages split the pairs (crown bounds, PGD, MILP, left over) and what
 * an exact MILP query costs, per formulation. A benchmark: it prints figures and asserts nothing.
 */
@Command(
        name = "bench-milp",
        mixinStandardHelpOptions = true,
        description =
                "Measure the MILP stage on the first test images: decided by bounds / PGD / MILP, unknown; MILP time per query.")
public final class MilpBenchCommand implements Callable<Integer> {
    @Option(
            names = "--model",
            description = "Model file, or a named model: default, robust (default: default).")
    Path model;

    @Option(
            names = "--limit",
            defaultValue = "100",
            description = "First N test images (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(
            names = "--eps",
            defaultValue = "0.01,0.02",
            description = "Eps list (default: ${DEFAULT-VALUE}).")
    String eps;

    @Option(
            names = "--max-unstable",
            defaultValue = "40",
            description =
                    "Only pairs with at most this many unstable ReLUs after crown go to MILP (default: ${DEFAULT-VALUE}).")
    int maxUnstable;

    @Option(
            names = "--time-limit",
            defaultValue = "20",
            description = "Seconds per MILP query (default: ${DEFAULT-VALUE}).")
    long seconds;

    @Option(
            names = "--formulation",
            split = ",",
            defaultValue = "FEASIBILITY,MINIMIZE",
            description = "FEASIBILITY and/or MINIMIZE (default: ${DEFAULT-VALUE}).")
    List<ScipMilpVerifier.Formulation> formulations;

    @Option(
            names = "--no-attack",
            description = "Skip PGD, so MILP also gets the pairs an attack would refute.")
    boolean noAttack;

    @Override
    public Integer call() throws Exception {
        Network mlp = Workspace.loadModel(model, System.err);
        MnistDataset test = Workspace.load(null, DatasetLoader.Split.TEST).head(limit);
        CrownPropagator crown = new CrownPropagator(mlp);
        // The job's first stages (quick attack, crown, attack) decide what they can; MILP gets
        // the rest.
        Certifier certifier = new CrownCertifier(mlp);
        Cascade cascade =
                noAttack
                        ? null
                        : new Cascade(mlp, Cascade.Settings.incomplete(Pgd.Settings.defaults()));
        int n = test.size();
        double[] images = new double[n * mlp.inputSize()];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            test.writePixels(i, images, i * mlp.inputSize());
            labels[i] = test.label(i);
        }
        int[] rowImage = IntStream.range(0, n).toArray();
        for (ScipMilpVerifier.Formulation formulation : formulations) {
            ScipMilpVerifier milp = new ScipMilpVerifier(formulation, Solvers.DEFAULT_BACKEND);
            System.out.printf(
                    "%n%s%n%8s %6s %6s %6s %6s %6s %6s %7s %9s %9s %9s%n",
                    formulation,
                    "eps",
                    "bounds",
                    "pgd",
                    "m-cert",
                    "m-fals",
                    "m-left",
                    "skip",
                    "unknown",
                    "median s",
                    "p90 s",
                    "max s");
            for (double e : EpsilonGrid.parse(eps)) {
                int bounds = 0;
                int attack = 0;
                int milpCertified = 0;
                int milpFalsified = 0;
                int milpLeft = 0;
                int skipped = 0;
                List<Double> times = new ArrayList<>();
                double[] rowEps = new double[n];
                Arrays.fill(rowEps, e);
                Decision[] first =
                        Sweep.decideRows(certifier, cascade, images, labels, rowImage, rowEps);
                for (int i = 0; i < n; i++) {
                    switch (first[i].verdict()) {
                        case CERTIFIED, MISCLASSIFIED -> bounds++;
                        case FALSIFIED -> attack++;
                        default -> {}
                    }
                    if (first[i].verdict() != Verdict.UNKNOWN) {
                        continue;
                    }
                    if (first[i].unstableRelus() > maxUnstable) {
                        skipped++;
                        continue;
                    }
                    double[] x = test.pixels(i);
                    int label = labels[i];
                    double[][] box = InputBox.of(x, e);
                    CrownPropagator.RowBounds b = crown.bound(box[0], box[1], label);
                    MilpResult r = milp.verify(mlp, x, label, e, b, seconds * 1000);
                    times.add(r.micros() / 1e6);
                    if (r.verdict() == Verdict.CERTIFIED) {
                        milpCertified++;
                    } else if (r.verdict() == Verdict.FALSIFIED) {
                        milpFalsified++;
                    } else {
                        milpLeft++;
                    }
                }
                double[] t = times.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                System.out.printf(
                        Locale.ROOT,
                        "%8.4f %6d %6d %6d %6d %6d %6d %7d %9.2f %9.2f %9.2f%n",
                        e,
                        bounds,
                        attack,
                        milpCertified,
                        milpFalsified,
                        milpLeft,
                        skipped,
                        milpLeft + skipped,
                        quantile(t, 0.5),
                        quantile(t, 0.9),
                        t.length == 0 ? 0 : t[t.length - 1]);
            }
        }
        return 0;
    }

    private static double quantile(double[] sorted, double q) {
        return sorted.length == 0
                ? 0
                : sorted[Math.min(sorted.length - 1, (int) Math.ceil(q * sorted.length) - 1)];
    }
}
