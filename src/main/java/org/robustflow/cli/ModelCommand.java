package org.robustflow.cli;

import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RobustTraining;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code model export|import|info}: move networks between the Avro model file, the interchange
 * formats mlp-json/1 and net-json/1, and ONNX (import only).
 */
@Command(
        name = "model",
        mixinStandardHelpOptions = true,
        description = "Export, import and describe models.",
        subcommands = {
            ModelCommand.Export.class,
            ModelCommand.Import.class,
            ModelCommand.Info.class
        })
public final class ModelCommand {

    /** Writes a model as mlp-json/1 (an MLP) or net-json/1 (any other layer sequence). */
    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = "Write a model as mlp-json/1 (MLPs) or net-json/1 (other networks).")
    static final class Export implements Callable<Integer> {
        @Option(
                names = "--format",
                defaultValue = "json",
                description = "Output format; only json (mlp-json/1 or net-json/1).")
        String format;

        @Option(
                names = "--model",
                description =
                        "Model file, or a named model: default, robust (default: the default model).")
        Path model;

        @Option(names = "--out", description = "Output file (default: standard output).")
        Path out;

        @Override
        public Integer call() throws Exception {
            if (!format.equals("json")) {
                throw new picocli.CommandLine.ParameterException(
                        new picocli.CommandLine(this),
                        "unknown format '" + format + "': only json");
            }
            Network mlp = Workspace.loadModel(model, System.err);
            if (out == null) {
                ModelIo.writeJson(mlp, System.out);
                System.out.println();
            } else {
                try (OutputStream stream = Files.newOutputStream(out)) {
                    ModelIo.writeJson(mlp, stream);
                }
                System.err.println(
                        "Wrote " + mlp.architecture() + " " + mlp.version() + " to " + out);
            }
            return 0;
        }
    }

    /** Reads mlp-json/1, net-json/1 (e.g. from PyTorch) or ONNX and writes a model file. */
    @Command(
            name = "import",
            mixinStandardHelpOptions = true,
            description = "Read mlp-json/1, net-json/1 or ONNX and write an Avro model file.")
    static final class Import implements Callable<Integer> {
        @Parameters(
                index = "0",
                description = "mlp-json/1 or net-json/1 (.json) or ONNX (.onnx, .onnx.gz) file.")
        Path json;

        @Option(names = "--out", required = true, description = "Model file to write.")
        Path out;

        @Option(names = "--no-evaluate", description = "Skip measuring the test accuracy.")
        boolean noEvaluate;

        @Option(names = "--data-dir", description = "IDX data set directory for the test accuracy.")
        Path dataDir;

        @Override
        public Integer call() throws Exception {
            Network mlp;
            try {
                mlp = Models.read(json);
            } catch (java.io.IOException | IllegalArgumentException e) {
                System.err.println(json + ": " + e.getMessage());
                return 2;
            }
            Double accuracy = null;
            if (!noEvaluate && mlp.inputSize() == 784) {
                accuracy =
                        org.robustflow.model.Trainer.accuracy(
                                mlp,
                                Workspace.load(
                                        dataDir, org.robustflow.data.DatasetLoader.Split.TEST));
            }
            ModelIo.write(
                    ModelIo.toSnapshot(mlp, null, accuracy, "imported from " + json.getFileName()),
                    out);
            System.out.printf(
                    Locale.ROOT,
                    "Imported %s %s%s to %s%n",
                    mlp.architecture(),
                    mlp.version(),
                    accuracy == null
                            ? ""
                            : String.format(Locale.ROOT, " (test accuracy %.4f)", accuracy),
                    out);
            return 0;
        }
    }

    /** Prints what a model file holds. */
    @Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a model file.")
    static final class Info implements Callable<Integer> {
        @Option(
                names = "--model",
                description =
                        "Model file, or a named model: default, robust (default: the default model).")
        Path model;

        @Override
        public Integer call() throws Exception {
            ModelSnapshot s = Workspace.loadSnapshot(model, System.err);
            Network mlp = ModelIo.toNetwork(s);
            System.out.println("architecture   " + mlp.architecture());
            System.out.println("version        " + s.getVersion());
            System.out.println("source         " + s.getSource());
            System.out.println("created        " + s.getCreatedAt());
            System.out.println(
                    "test accuracy  "
                            + (s.getTestAccuracy() == null
                                    ? "-"
                                    : String.format(Locale.ROOT, "%.4f", s.getTestAccuracy())));
            TrainingSettings t = s.getTraining();
            if (t != null) {
                System.out.printf(
                        Locale.ROOT,
                        "training       %s, %d epochs, batch %d, lr %s, seed %d, %s, %.1f s%n",
                        t.getOptimizer(),
                        t.getEpochs(),
                        t.getBatchSize(),
                        t.getLearningRate(),
                        t.getSeed(),
                        t.getDataset(),
                        t.getTrainSeconds());
                RobustTraining r = t.getRobust();
                System.out.println(
                        "robust         "
                                + (r == null
                                        ? "no (natural training)"
                                        : String.format(
                                                Locale.ROOT,
                                                "%s for eps %s (trained at %s), warm-up %d + ramp %d epochs,"
                                                        + " kappa 1 -> %s%s, lr x %s per epoch after the ramp",
                                                r.getMethod(),
                                                r.getEps(),
                                                r.getTrainEps(),
                                                r.getWarmupEpochs(),
                                                r.getRampEpochs(),
                                                r.getKappaEnd(),
                                                r.getMethod().equals("crown-ibp")
                                                        ? ", beta 1 -> " + r.getBetaEnd()
                                                        : "",
                                                r.getLrDecay())));
            }
            return 0;
        }
    }
}
