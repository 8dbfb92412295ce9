package org.robustflow.testutils;

import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.model.Trainer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Shared test data: the shipped MNIST, the default model (trained once per build), small random
 * nets.
 */
public final class Fixtures {
    public static final Path MNIST_DIR = Path.of("data", "mnist");

    /** Cached per build so every test class in the run shares one training. */
    private static final Path DEFAULT_MODEL = Path.of("target", "test-models", "default.avro");

    private static MnistDataset test;
    private static MnistDataset train;
    private static Network defaultModel;
    private static double defaultModelAccuracy;

    private Fixtures() {}

    public static synchronized MnistDataset mnistTest() {
        if (test == null) {
            test = load(DatasetLoader.Split.TEST);
        }
        return test;
    }

    public static synchronized MnistDataset mnistTrain() {
        if (train == null) {
            train = load(DatasetLoader.Split.TRAIN);
        }
        return train;
    }

    /** The product's default model: 784-50-50-50-10, {@link Trainer.Settings#defaults()}. */
    public static synchronized Network defaultModel() {
        if (defaultModel == null) {
            try {
                if (!Files.exists(DEFAULT_MODEL)) {
                    Network mlp =
                            new Trainer(Trainer.Settings.defaults())
                                    .train(mnistTrain(), null, new Trainer.Listener() {});
                    double accuracy = Trainer.accuracy(mlp, mnistTest());
                    ModelIo.write(
                            ModelIo.toSnapshot(mlp, null, accuracy, "test fixture"), DEFAULT_MODEL);
                }
                var snapshot = ModelIo.read(DEFAULT_MODEL);
                defaultModel = ModelIo.toNetwork(snapshot);
                defaultModelAccuracy = snapshot.getTestAccuracy();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return defaultModel;
    }

    /** The Avro file of {@link #defaultModel()}. */
    public static synchronized Path defaultModelFile() {
        defaultModel();
        return DEFAULT_MODEL;
    }

    public static synchronized double defaultModelAccuracy() {
        defaultModel();
        return defaultModelAccuracy;
    }

    /** A random ReLU net with the given widths (input first), weights ~ N(0, 1/fan_in). */
    public static Network randomMlp(long seed, int... widths) {
        Random random = new Random(seed);
        List<DenseLayer> layers = new ArrayList<>();
        for (int l = 0; l + 1 < widths.length; l++) {
            double[][] w = new double[widths[l + 1]][widths[l]];
            double[] b = new double[widths[l + 1]];
            for (int o = 0; o < w.length; o++) {
                for (int i = 0; i < w[o].length; i++) {
                    w[o][i] = random.nextGaussian() / Math.sqrt(widths[l]);
                }
                b[o] = 0.1 * random.nextGaussian();
            }
            layers.add(new DenseLayer(w, b));
        }
        return Network.mlp(layers);
    }

    private static MnistDataset load(DatasetLoader.Split split) {
        try {
            return DatasetLoader.load(MNIST_DIR, split);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
