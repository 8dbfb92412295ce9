package org.robustflow.cli;

import me.tongfei.progressbar.ProgressBar;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.model.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the project keeps its data and models, and how the default model comes to be.
 *
 * <p>The home directory is the {@code robustflow.home} system property (the launcher sets it to the
 * repository root) or the working directory. The shipped MNIST copy is {@code data/mnist/}; the
 * default model is trained once with a fixed seed and cached as {@code .cache/models/default.avro}.
 */
public final class Workspace {
    private Workspace() {}

    public static Path home() {
        return Path.of(System.getProperty("robustflow.home", ".")).toAbsolutePath().normalize();
    }

    public static Path defaultDataDir() {
        return home().resolve("data").resolve("mnist");
    }

    public static Path defaultModelPath() {
        return home().resolve(".cache").resolve("models").resolve("default.avro");
    }

    public static MnistDataset load(Path dataDir, DatasetLoader.Split split) throws IOException {
        return DatasetLoader.load(dataDir == null ? defaultDataDir() : dataDir, split);
    }

    /**
     * The model file at {@code path}, or the default model (trained and cached if absent) when
     * null.
     */
    public static ModelSnapshot loadSnapshot(Path path, PrintStream log) throws IOException {
        if (path != null && (Models.isOnnx(path) || path.toString().endsWith(".json"))) {
            Network net = Models.read(path);
            Double accuracy = null;
            if (net.inputSize() == 784 && net.numClasses() == MnistDataset.NUM_CLASSES) {
                accuracy = Trainer.accuracy(net, load(null, DatasetLoader.Split.TEST));
            }
            return ModelIo.toSnapshot(net, null, accuracy, "imported " + path.getFileName());
        }
        if (path != null) {
            return ModelIo.read(path);
        }
        Path cached = defaultModelPath();
        if (!Files.exists(cached)) {
            log.println(
                    "No default model at "
                            + cached
                            + ": training it once (784-50-50-50-10, seed 42).");
            train(Trainer.Settings.defaults(), null, cached, log);
        }
        return ModelIo.read(cached);
    }

    public static Network loadModel(Path path, PrintStream log) throws IOException {
        if (path != null && (Models.isOnnx(path) || path.toString().endsWith(".json"))) {
            return Models.read(path);
        }
        return ModelIo.toNetwork(loadSnapshot(path, log));
    }

    /**
     * Trains, reports each epoch on {@code log}, writes the model file and returns its snapshot.
     */
    public static ModelSnapshot train(
            Trainer.Settings settings, Path dataDir, Path out, PrintStream log) throws IOException {
        MnistDataset trainSet = load(dataDir, DatasetLoader.Split.TRAIN);
        MnistDataset testSet = load(dataDir, DatasetLoader.Split.TEST);
        long start = System.nanoTime();
        Network mlp;
        try (ProgressBar bar =
                Progress.bar(
                        "train",
                        (long) settings.epochs()
                                * ((trainSet.size() + settings.batchSize() - 1)
                                        / settings.batchSize()),
                        " batches")) {
            mlp =
                    new Trainer(settings)
                            .train(
                                    trainSet,
                                    testSet,
                                    new Trainer.Listener() {
                                        @Override
                                        public void onBatch(
                                                int epoch, int batch, int batchesPerEpoch) {
                                            bar.step();
                                        }

                                        @Override
                                        public void onEpoch(Trainer.EpochStats s) {
                                            log.printf(
                                                    Locale.ROOT,
                                                    "epoch %2d/%d  loss %.4f  train acc %.4f  test acc %.4f  %.1f s%n",
                                                    s.epoch(),
                                                    settings.epochs(),
                                                    s.meanLoss(),
                                                    s.trainAccuracy(),
                                                    s.testAccuracy(),
                                                    s.seconds());
                                        }
                                    });
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        double accuracy = Trainer.accuracy(mlp, testSet);
        TrainingSettings provenance =
                TrainingSettings.newBuilder()
                        .setSeed(settings.seed())
                        .setEpochs(settings.epochs())
                        .setBatchSize(settings.batchSize())
                        .setLearningRate(settings.learningRate())
                        .setDataset(trainSet.name())
                        .setTrainSeconds(seconds)
                        .build();
        ModelSnapshot snapshot = ModelIo.toSnapshot(mlp, provenance, accuracy, "trained");
        ModelIo.write(snapshot, out);
        log.printf(
                Locale.ROOT,
                "Trained %s in %.1f s: test accuracy %.4f, version %s, saved to %s%n",
                mlp.architecture(),
                seconds,
                accuracy,
                mlp.version(),
                out);
        return snapshot;
    }
}
