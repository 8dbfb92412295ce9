package org.robustflow.cli;

import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.data.DatasetLoader;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** Which model, which test images and which epsilons: shared by the offline commands. */
final class TestSetOptions {
    @Option(
            names = "--model",
            description =
                    "Model file, or a named model: default, robust (each trained once if absent; default: default).")
    Path model;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST in data/mnist).")
    Path dataDir;

    @Option(
            names = "--eps",
            defaultValue = EpsilonGrid.DEFAULT,
            description = "start:end:count or a comma list (default: ${DEFAULT-VALUE}).")
    String eps;

    @Option(names = "--limit", description = "Only the first N test images.")
    Integer limit;

    double[] eps() {
        return EpsilonGrid.parse(eps);
    }

    MnistDataset testSet() throws IOException {
        MnistDataset test = Workspace.load(dataDir, DatasetLoader.Split.TEST);
        return limit == null ? test : test.head(limit);
    }

    Network model() throws IOException {
        return Workspace.loadModel(model, System.err);
    }
}
