package org.robustflow.cli;

import me.tongfei.progressbar.ProgressBar;
import org.robustflow.attack.Pgd;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RobustTraining;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.report.ComparisonWriter;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Sweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code compare}: certifies the test set with several models, offline, and writes one chart and
 * one table of all of them (box-certified, certified by the final bounds, not refuted by PGD).
 *
 * <pre>{@code
 * ./robustflow compare --model default --model robust     # results/compare/index.html
 * }</pre>
 */
@Command(
        name = "compare",
        mixinStandardHelpOptions = true,
        description =
                "Certify the test set with several models (box bounds; then --method bounds + PGD) and write one chart"
                        + " and one table comparing them (PNG, SVG, CSV, JSON, HTML).")
public final class CompareCommand implements Callable<Integer> {
    @Option(
            names = "--model",
            required = true,
            description =
                    "Model file or named model (default, robust); repeat for each model to compare.")
    List<Path> models;

    @Option(
            names = "--method",
            defaultValue = "crown",
            description = "Final bound method before the attack (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(
            names = "--eps",
            defaultValue = EpsilonGrid.DEFAULT,
            description = "start:end:count or a comma list (default: ${DEFAULT-VALUE}).")
    String eps;

    @Option(names = "--limit", description = "Only the first N test images.")
    Integer limit;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST in data/mnist).")
    Path dataDir;

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

    @Option(names = "--threads", description = "Worker threads (default: the number of cores).")
    Integer threads;

    @Option(names = "--out", description = "Output directory (default: results/compare).")
    Path out;

    @Override
    public Integer call() throws Exception {
        double[] epsValues = EpsilonGrid.parse(eps);
        MnistDataset test = Workspace.load(dataDir, DatasetLoader.Split.TEST);
        if (limit != null) {
            test = test.head(limit);
        }
        int workers = threads == null ? Runtime.getRuntime().availableProcessors() : threads;
        PrintStream log = System.out;
        List<ComparisonWriter.Series> series = new ArrayList<>();
        for (Path model : models) {
            ModelSnapshot snapshot = Workspace.loadSnapshot(model, System.err);
            Network net = ModelIo.toNetwork(snapshot);
            String name = model.getFileName().toString();
            Sweep.Report box = sweep("box", net, null, test, epsValues, workers, name);
            Cascade cascade =
                    new Cascade(
                            net,
                            Cascade.Settings.incomplete(
                                    new Pgd.Settings(pgdSteps, pgdRestarts, 0.1, 7L)));
            Sweep.Report full = sweep(method, net, cascade, test, epsValues, workers, name);
            List<ComparisonWriter.Point> points = new ArrayList<>();
            for (int e = 0; e < epsValues.length; e++) {
                points.add(
                        new ComparisonWriter.Point(
                                epsValues[e],
                                full.total(),
                                box.certified(e),
                                full.certified(e),
                                full.count(e, Verdict.FALSIFIED),
                                full.count(e, Verdict.MISCLASSIFIED),
                                full.count(e, Verdict.UNKNOWN) + full.count(e, Verdict.TIMEOUT)));
            }
            series.add(
                    new ComparisonWriter.Series(
                            name,
                            snapshot.getVersion(),
                            net.architecture(),
                            snapshot.getTestAccuracy(),
                            training(snapshot),
                            method,
                            points));
        }
        printTable(series, log);
        Path dir = out == null ? Workspace.home().resolve("results").resolve("compare") : out;
        StringBuilder command = new StringBuilder("./robustflow compare");
        for (Path m : models) {
            command.append(" --model ").append(m);
        }
        command.append(" --method ").append(method).append(" --eps ").append(eps);
        if (limit != null) {
            command.append(" --limit ").append(limit);
        }
        Path html =
                ComparisonWriter.write(
                        dir,
                        "Robust accuracy, " + test.size() + " MNIST test images",
                        series,
                        command.toString());
        log.println("report: " + html);
        return 0;
    }

    private static Sweep.Report sweep(
            String method,
            Network net,
            Cascade cascade,
            MnistDataset test,
            double[] eps,
            int workers,
            String name) {
        try (ProgressBar bar =
                Progress.bar(
                        name + " " + method + (cascade == null ? "" : " + pgd"),
                        test.size(),
                        " img")) {
            return Sweep.run(
                    Certifier.of(method, net),
                    cascade,
                    test,
                    eps,
                    workers,
                    Sweep.DEFAULT_CHUNK,
                    bar::stepBy);
        }
    }

    private static String training(ModelSnapshot snapshot) {
        if (snapshot.getTraining() == null) {
            return snapshot.getSource();
        }
        RobustTraining r = snapshot.getTraining().getRobust();
        return r == null
                ? "natural training"
                : String.format(
                        Locale.ROOT,
                        "%s training for eps %s (at %s)",
                        r.getMethod(),
                        r.getEps(),
                        r.getTrainEps());
    }

    static void printTable(List<ComparisonWriter.Series> series, PrintStream out) {
        for (ComparisonWriter.Series m : series) {
            out.printf(
                    Locale.ROOT,
                    "%s: %s %s, %s, test accuracy %s%n",
                    m.name(),
                    m.architecture(),
                    m.version(),
                    m.training(),
                    m.testAccuracy() == null
                            ? "-"
                            : String.format(Locale.ROOT, "%.4f", m.testAccuracy()));
        }
        StringBuilder header = new StringBuilder(String.format("%7s", "eps"));
        for (ComparisonWriter.Series m : series) {
            header.append(
                    String.format(
                            " | %-12s %6s %6s %6s %6s %7s %7s",
                            m.name(), "box", m.method(), "falsif", "unkn", ">=", "<="));
        }
        out.println(header);
        int rows = series.get(0).points().size();
        for (int r = 0; r < rows; r++) {
            StringBuilder line =
                    new StringBuilder(
                            String.format(
                                    Locale.ROOT, "%7.4f", series.get(0).points().get(r).eps()));
            for (ComparisonWriter.Series m : series) {
                ComparisonWriter.Point p = m.points().get(r);
                line.append(
                        String.format(
                                Locale.ROOT,
                                " | %-12s %6d %6d %6d %6d %7.4f %7.4f",
                                "",
                                p.boxCertified(),
                                p.certified(),
                                p.falsified(),
                                p.unknown(),
                                p.lower(),
                                p.upper()));
            }
            out.println(line);
        }
    }
}
