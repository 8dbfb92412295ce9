package org.robustflow.cli;

import me.tongfei.progressbar.ProgressBar;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.avro.RobustTraining;
import org.robustflow.avro.TrainingSettings;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.model.Trainer;
import org.robustflow.train.RobustTrainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where the project keeps its data and models, and how the default model comes to be.
 *
 * <p>The home directory is the {@code robustflow.home} system property (the launcher sets it to the
 * repository root) or the working directory. The shipped MNIST copy is {@code data/mnist/}. Two
 * named models are trained once with fixed seeds and cached in {@code .cache/models/}: {@code
 * default} (normally trained, {@code default.avro}) and {@code robust} (CROWN-IBP for eps 0.1,
 * {@code robust.avro}). Wherever a model file is taken, one of these names is too (unless a file of
 * that name exists in the working directory).
 */
public final class Workspace {
    /** The normally trained model, also used when no model is given. */
    public static final String DEFAULT_MODEL = "default";

    /** The certifiably trained model ({@link RobustTrainer.Settings#robustDefault()}). */
    public static final String ROBUST_MODEL = "robust";

    private Workspace() {}

    public static Path home() {
        return Path.of(System.getProperty("robustflow.home", ".")).toAbsolutePath().normalize();
    }

    public static Path defaultDataDir() {
        return home().resolve("data").resolve("mnist");
    }

    public static Path defaultModelPath() {
        return namedModelPath(DEFAULT_MODEL);
    }

    /** Where the named model {@code name} is cached. */
    public static Path namedModelPath(String name) {
        return home().resolve(".cache").resolve("models").resolve(name + ".avro");
    }

    /** The model name {@code path} stands for, or null when it is a file (or absent). */
    static String modelName(Path path) {
        if (path == null || Files.exists(path)) {
            return null;
        }
        String name = path.toString();
        return name.equals(DEFAULT_MODEL) || name.equals(ROBUST_MODEL) ? name : null;
    }

    public static MnistDataset load(Path dataDir, DatasetLoader.Split split) throws IOException {
        return DatasetLoader.load(dataDir == null ? defaultDataDir() : dataDir, split);
    }

    /**
     * The model file at {@code path}, or the named model {@code path} names ({@code default},
     * {@code robust}: trained and cached if absent), or the default model when null.
     */
    public static ModelSnapshot loadSnapshot(Path path, PrintStream log) throws IOException {
        String name = path == null ? DEFAULT_MODEL : modelName(path);
        if (name == null && (Models.isOnnx(path) || path.toString().endsWith(".json"))) {
            Network net = Models.read(path);
            Double accuracy = null;
            if (net.inputSize() == 784 && net.numClasses() == MnistDataset.NUM_CLASSES) {
                accuracy = Trainer.accuracy(net, load(null, DatasetLoader.Split.TEST));
            }
            return ModelIo.toSnapshot(net, null, accuracy, "imported " + path.getFileName());
        }
        if (name == null) {
            return ModelIo.read(path);
        }
        Path cached = namedModelPath(name);
        if (!Files.exists(cached)) {
            if (name.equals(ROBUST_MODEL)) {
                RobustTrainer.Settings settings = RobustTrainer.Settings.robustDefault();
                log.println(
                        "No robust model at "
                                + cached
                                + ": training it once ("
                                + settings.describe()
                                + ", seed "
                                + settings.base().seed()
                                + ").");
                trainRobust(settings, null, cached, log);
            } else {
                log.println(
                        "No default model at "
                                + cached
                                + ": training it once (784-50-50-50-10, seed 42).");
                train(Trainer.Settings.defaults(), null, cached, log);
            }
        }
        return ModelIo.read(cached);
    }

    public static Network loadModel(Path path, PrintStream log) throws IOException {
        if (modelName(path) == null
                && path != null
                && (Models.isOnnx(path) || path.toString().endsWith(".json"))) {
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
        try (ProgressBar bar = batchesBar(trainSet, settings)) {
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
        return save(mlp, trainSet, testSet, settings, null, "trained", start, out, log);
    }

    /**
     * Trains certifiably robust, reports each epoch on {@code log}, writes the model file (with the
     * robust-training settings) and returns its snapshot.
     */
    public static ModelSnapshot trainRobust(
            RobustTrainer.Settings settings, Path dataDir, Path out, PrintStream log)
            throws IOException {
        MnistDataset trainSet = load(dataDir, DatasetLoader.Split.TRAIN);
        MnistDataset testSet = load(dataDir, DatasetLoader.Split.TEST);
        Trainer.Settings base = settings.base();
        log.println("robust training: " + settings.describe());
        long start = System.nanoTime();
        Network mlp;
        try (ProgressBar bar = batchesBar(trainSet, base)) {
            mlp =
                    new RobustTrainer(settings)
                            .train(
                                    trainSet,
                                    testSet,
                                    new RobustTrainer.Listener() {
                                        @Override
                                        public void onBatch(
                                                int epoch, int batch, int batchesPerEpoch) {
                                            bar.step();
                                        }

                                        @Override
                                        public void onEpoch(RobustTrainer.EpochStats s) {
                                            log.printf(
                                                    Locale.ROOT,
                                                    "epoch %2d/%d  eps %.4f  kappa %.2f  beta %.2f  loss %.4f  train acc %.4f"
                                                            + "  train IBP-verified %.4f  test acc %.4f  %.1f s%n",
                                                    s.epoch(),
                                                    base.epochs(),
                                                    s.eps(),
                                                    s.kappa(),
                                                    s.beta(),
                                                    s.meanLoss(),
                                                    s.trainAccuracy(),
                                                    s.trainVerified(),
                                                    s.testAccuracy(),
                                                    s.seconds());
                                        }
                                    });
        }
        RobustTraining robust =
                RobustTraining.newBuilder()
                        .setMethod(settings.method().id())
                        .setEps(settings.eps())
                        .setTrainEps(settings.trainEps())
                        .setWarmupEpochs(settings.warmupEpochs())
                        .setRampEpochs(settings.rampEpochs())
                        .setKappaEnd(settings.kappaEnd())
                        .setBetaEnd(settings.betaEnd())
                        .setLrDecay(settings.lrDecay())
                        .build();
        return save(
                mlp,
                trainSet,
                testSet,
                base,
                robust,
                "trained " + settings.method().id(),
                start,
                out,
                log);
    }

    private static ProgressBar batchesBar(MnistDataset trainSet, Trainer.Settings settings) {
        long perEpoch = (trainSet.size() + settings.batchSize() - 1) / settings.batchSize();
        return Progress.bar("train", settings.epochs() * perEpoch, " batches");
    }

    /**
     * Writes a freshly trained model with its provenance ({@code robust}: null for natural
     * training) to {@code out}, reports it on {@code log} and returns its snapshot.
     */
    private static ModelSnapshot save(
            Network mlp,
            MnistDataset trainSet,
            MnistDataset testSet,
            Trainer.Settings settings,
            RobustTraining robust,
            String source,
            long startNanos,
            Path out,
            PrintStream log)
            throws IOException {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        double accuracy = Trainer.accuracy(mlp, testSet);
        TrainingSettings.Builder provenance =
                TrainingSettings.newBuilder()
                        .setSeed(settings.seed())
                        .setEpochs(settings.epochs())
                        .setBatchSize(settings.batchSize())
                        .setLearningRate(settings.learningRate())
                        .setDataset(trainSet.name())
                        .setTrainSeconds(seconds);
        if (robust != null) {
            provenance.setRobust(robust);
        }
        ModelSnapshot snapshot = ModelIo.toSnapshot(mlp, provenance.build(), accuracy, source);
        ModelIo.write(snapshot, out);
        log.printf(
                Locale.ROOT,
                "Trained %s%s in %.1f s: test accuracy %.4f, version %s, saved to %s%n",
                mlp.architecture(),
                robust == null ? "" : " (" + robust.getMethod() + ")",
                seconds,
                accuracy,
                mlp.version(),
                out);
        return snapshot;
    }
}
