package org.robustflow.cli;

import org.robustflow.model.Trainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code train}: trains a ReLU MLP on the training split and writes the model file. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description =
                "Train a fully connected ReLU classifier (softmax cross-entropy, Adam) and save it as an Avro model file.")
public final class TrainCommand implements Callable<Integer> {
    @Option(
            names = "--hidden",
            split = ",",
            defaultValue = "50,50,50",
            description = "Hidden layer sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> hidden;

    @Option(
            names = "--epochs",
            defaultValue = "10",
            description = "Epochs (default: ${DEFAULT-VALUE}).")
    int epochs;

    @Option(
            names = "--batch-size",
            defaultValue = "128",
            description = "Mini-batch size (default: ${DEFAULT-VALUE}).")
    int batchSize;

    @Option(
            names = "--lr",
            defaultValue = "0.001",
            description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate;

    @Option(
            names = "--seed",
            defaultValue = "42",
            description = "Seed for weights and batch order (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST in data/mnist).")
    Path dataDir;

    @Option(
            names = "--out",
            description =
                    "Model file to write (default: the cached default model .cache/models/default.avro).")
    Path out;

    @Override
    public Integer call() throws Exception {
        Trainer.Settings settings =
                new Trainer.Settings(hidden, epochs, batchSize, learningRate, seed);
        Workspace.train(
                settings, dataDir, out == null ? Workspace.defaultModelPath() : out, System.out);
        return 0;
    }
}
