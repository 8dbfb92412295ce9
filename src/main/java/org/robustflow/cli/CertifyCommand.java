package org.robustflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ProgressBar;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedWriter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code certify}: the offline interval-analysis experiment, robust accuracy per eps on the test
 * set.
 *
 * <pre>{@code
 * ./robustflow certify --method box --eps 0.01:0.1:10 --json results/box.json
 * }</pre>
 */
@Command(
        name = "certify",
        mixinStandardHelpOptions = true,
        description =
                "Certify the test set against L-infinity perturbations offline and print robust accuracy per eps.")
public final class CertifyCommand implements Callable<Integer> {
    @Mixin TestSetOptions data;

    @Option(
            names = "--method",
            defaultValue = "crown",
            description =
                    "Bound method: box (interval) or crown (linear relaxation, tighter, slower) (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(
            names = "--no-attack",
            description =
                    "Bounds only: skip the PGD attack that looks for counterexamples where the bounds cannot decide.")
    boolean noAttack;

    @Option(
            names = "--pgd-steps",
            defaultValue = "40",
            description = "PGD steps per restart (default: ${DEFAULT-VALUE}).")
    int pgdSteps;

    @Option(
            names = "--pgd-restarts",
            defaultValue = "3",
            description = "PGD restarts (default: ${DEFAULT-VALUE}).")
    int pgdRestarts;

    @Option(
            names = "--complete",
            description =
                    "Decide every pair: after the bounds and PGD, a stronger attack, then branch and bound with alpha/beta-CROWN, up to --time-limit per pair. The table says exact when no pair is left undecided.")
    boolean complete;

    @Option(
            names = "--time-limit",
            defaultValue = "60",
            description =
                    "Seconds per pair for the complete stages (default: ${DEFAULT-VALUE}); a pair still open then is TIMEOUT.")
    double timeLimit;

    @Option(names = "--threads", description = "Worker threads (default: the number of cores).")
    Integer threads;

    @Option(
            names = "--json",
            description =
                    "Write {\"total\",\"correct\",\"eps\":{\"0.0100\":{\"certified\":K}}} here.")
    Path json;

    @Option(
            names = "--verdicts",
            description =
                    "Write one CSV line per (image, eps): index,eps,verdict,method,seconds (time spent on the pair itself; a verdict implied by another eps counts only the stages run on this pair).")
    Path verdicts;

    @Override
    public Integer call() throws Exception {
        double[] epsValues = data.eps();
        MnistDataset test = data.testSet();
        Network mlp = data.model();
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;

        long start = System.nanoTime();
        Sweep.Report report;
        try (ProgressBar bar = Progress.bar("certify", test.size(), " img")) {
            Pgd.Settings attack = new Pgd.Settings(pgdSteps, pgdRestarts, 0.1, 7L);
            Cascade cascade =
                    noAttack
                            ? null
                            : new Cascade(
                                    mlp,
                                    complete
                                            ? Cascade.Settings.complete(
                                                    attack, Math.round(timeLimit * 1000))
                                            : Cascade.Settings.incomplete(attack));
            report =
                    Sweep.run(
                            Certifier.of(method, mlp),
                            cascade,
                            test,
                            epsValues,
                            workers,
                            // Exact stages take seconds per image: small chunks keep all
                            // threads busy to the end.
                            complete ? 2 : Sweep.DEFAULT_CHUNK,
                            bar::stepBy);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.println(
                "method "
                        + method
                        + (noAttack ? "" : " + pgd")
                        + (complete && !noAttack ? " + alpha-crown + bab (complete)" : ""));
        printTable(report, mlp, System.out);
        System.out.printf(
                Locale.ROOT,
                "%d images x %d eps in %.2f s (%.0f verdicts/s, %d threads)%n",
                report.total(),
                epsValues.length,
                seconds,
                report.total() * epsValues.length / seconds,
                workers);
        if (json != null) {
            writeJson(report, json);
        }
        if (verdicts != null) {
            writeVerdicts(report, verdicts);
        }
        return 0;
    }

    static void printTable(Sweep.Report report, Network mlp, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "model %s %s, %d images, clean accuracy %.4f (%d correct)%n",
                mlp.architecture(),
                mlp.version(),
                report.total(),
                (double) report.correct() / report.total(),
                report.correct());
        out.printf(
                "%8s  %10s  %10s  %10s  %15s  %15s%n",
                "eps", "certified", "falsified", "unknown", "robust acc >=", "robust acc <=");
        for (int e = 0; e < report.eps().length; e++) {
            out.printf(
                    Locale.ROOT,
                    "%8.4f  %10d  %10d  %10d  %15.4f  %15.4f%n",
                    report.eps()[e],
                    report.certified(e),
                    report.count(e, Verdict.FALSIFIED),
                    report.count(e, Verdict.UNKNOWN) + report.count(e, Verdict.TIMEOUT),
                    report.robustAccuracy(e),
                    report.robustAccuracyUpper(e));
        }
        int undecided = 0;
        for (int e = 0; e < report.eps().length; e++) {
            undecided += report.count(e, Verdict.UNKNOWN) + report.count(e, Verdict.TIMEOUT);
        }
        out.println(
                undecided == 0
                        ? "exact: every pair decided, robust accuracy known exactly"
                        : undecided + " pairs undecided: robust accuracy within the bounds above");
    }

    static void writeJson(Sweep.Report report, Path file) throws java.io.IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("total", report.total());
        root.put("correct", report.correct());
        ObjectNode byEps = root.putObject("eps");
        for (int e = 0; e < report.eps().length; e++) {
            ObjectNode entry = byEps.putObject(EpsilonGrid.key(report.eps()[e]));
            entry.put("certified", report.certified(e));
            entry.put("falsified", report.count(e, Verdict.FALSIFIED));
            entry.put("misclassified", report.count(e, Verdict.MISCLASSIFIED));
            entry.put(
                    "unknown", report.count(e, Verdict.UNKNOWN) + report.count(e, Verdict.TIMEOUT));
        }
        createParent(file);
        mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    static void writeVerdicts(Sweep.Report report, Path file) throws java.io.IOException {
        createParent(file);
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            w.write("index,eps,verdict,method,seconds\n");
            Decision[][] results = report.results();
            for (int i = 0; i < results.length; i++) {
                for (int e = 0; e < report.eps().length; e++) {
                    Decision d = results[i][e];
                    w.write(
                            i
                                    + ","
                                    + EpsilonGrid.key(report.eps()[e])
                                    + ","
                                    + d.verdict()
                                    + ","
                                    + d.method()
                                    + ","
                                    + String.format(Locale.ROOT, "%.3f", d.micros() / 1e6)
                                    + "\n");
                }
            }
        }
    }

    private static void createParent(Path file) throws java.io.IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }
}
