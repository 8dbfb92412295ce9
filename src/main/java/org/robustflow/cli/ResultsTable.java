package org.robustflow.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.robustflow.avro.EpsilonAccuracy;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;

/**
 * The results table of a streaming run: drawn in place on a terminal, as plain lines otherwise, and
 * written as JSON (the shape of {@code certify --json} plus the extra counts) and CSV.
 */
final class ResultsTable {
    private static final String HEADER =
            String.format(
                    "%8s  %7s  %9s  %9s  %13s  %7s  %13s  %13s",
                    "eps",
                    "seen",
                    "certified",
                    "falsified",
                    "misclassified",
                    "unknown",
                    "robust acc >=",
                    "robust acc <=");

    private final PrintStream out;
    private final boolean terminal;
    private int linesDrawn;
    private long lastPlain;

    ResultsTable(PrintStream out) {
        this.out = out;
        this.terminal = System.console() != null;
    }

    /** Redraws the table; without a terminal, prints it at most every 5 s unless {@code force}. */
    void draw(Map<String, EpsilonAccuracy> rows, boolean force) {
        if (rows.isEmpty()) {
            return; // progress of a run without verdict rows yet: nothing to tabulate
        }
        if (!terminal) {
            long now = System.currentTimeMillis();
            if (!force && now - lastPlain < 5_000) {
                return;
            }
            lastPlain = now;
        } else if (linesDrawn > 0) {
            out.print(
                    "\u001b["
                            + linesDrawn
                            + "F\u001b[J"); // cursor up to the table's first line, clear below
        }
        boolean manyModels = models(rows) > 1;
        out.println(HEADER + (manyModels ? "  model" : ""));
        for (EpsilonAccuracy a : rows.values()) {
            out.println(line(a) + (manyModels ? "  " + a.getModelVersion() : ""));
        }
        int lines = rows.size() + 1;
        if (!rows.isEmpty()) {
            out.println(progress(rows.values().iterator().next()));
            lines++;
        }
        out.flush();
        linesDrawn = lines;
    }

    /** The run-level line: images done of the run's, rejected, complete. */
    static String progress(EpsilonAccuracy a) {
        return String.format(
                Locale.ROOT,
                "run %s: %d of %d images done, %d rejected%s",
                a.getRunId(),
                a.getImagesDone(),
                a.getExpectedTotal(),
                a.getRejected(),
                a.getComplete() ? ", complete" : "");
    }

    private static long models(Map<String, EpsilonAccuracy> rows) {
        return rows.values().stream().map(EpsilonAccuracy::getModelVersion).distinct().count();
    }

    private static String line(EpsilonAccuracy a) {
        return String.format(
                Locale.ROOT,
                "%8s  %7d  %9d  %9d  %13d  %7d  %13.4f  %13.4f%s",
                org.robustflow.bounds.EpsilonGrid.key(a.getEps()),
                a.getSeen(),
                a.getCertified(),
                a.getFalsified(),
                a.getMisclassified(),
                a.getUnknown(),
                a.getRobustAccuracyLower(),
                a.getRobustAccuracyUpper(),
                a.getComplete() ? "" : "  ...");
    }

    static void writeJson(Map<String, EpsilonAccuracy> rows, Path file) throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        Collection<EpsilonAccuracy> values = rows.values();
        EpsilonAccuracy any = values.iterator().next();
        root.put("run", any.getRunId());
        root.put("complete", any.getComplete());
        root.put("images", any.getExpectedTotal());
        root.put("rejected", any.getRejected());
        boolean manyModels = models(rows) > 1;
        if (!manyModels) {
            root.put("model", any.getModelVersion());
            root.put("total", any.getSeen());
            root.put("correct", any.getSeen() - any.getMisclassified());
        }
        // One model: "eps" as certify --json writes it. Several (a model update mid-run): one
        // "eps" table per model version under "models".
        ObjectNode models = manyModels ? root.putObject("models") : null;
        for (EpsilonAccuracy a : values) {
            ObjectNode byEps =
                    manyModels
                            ? (models.has(a.getModelVersion())
                                    ? (ObjectNode) models.get(a.getModelVersion()).get("eps")
                                    : models.putObject(a.getModelVersion()).putObject("eps"))
                            : (root.has("eps")
                                    ? (ObjectNode) root.get("eps")
                                    : root.putObject("eps"));
            byEps.putObject(org.robustflow.bounds.EpsilonGrid.key(a.getEps()))
                    .put("certified", a.getCertified())
                    .put("falsified", a.getFalsified())
                    .put("misclassified", a.getMisclassified())
                    .put("unknown", a.getUnknown())
                    .put("seen", a.getSeen())
                    .put("robustAccuracyLower", a.getRobustAccuracyLower())
                    .put("robustAccuracyUpper", a.getRobustAccuracyUpper())
                    .put("certifiedByBounds", a.getCertifiedByBounds())
                    .put("certifiedByMilp", a.getCertifiedByMilp())
                    .put("falsifiedByPgd", a.getFalsifiedByPgd())
                    .put("falsifiedByMilp", a.getFalsifiedByMilp());
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
    }

    static void writeCsv(Map<String, EpsilonAccuracy> rows, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            w.write(
                    "eps,seen,certified,falsified,misclassified,unknown,robust_accuracy_lower,robust_accuracy_upper,model\n");
            for (EpsilonAccuracy a : rows.values()) {
                w.write(
                        String.format(
                                Locale.ROOT,
                                "%s,%d,%d,%d,%d,%d,%.6f,%.6f,%s%n",
                                org.robustflow.bounds.EpsilonGrid.key(a.getEps()),
                                a.getSeen(),
                                a.getCertified(),
                                a.getFalsified(),
                                a.getMisclassified(),
                                a.getUnknown(),
                                a.getRobustAccuracyLower(),
                                a.getRobustAccuracyUpper(),
                                a.getModelVersion()));
            }
        }
    }
}
