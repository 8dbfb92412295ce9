package org.robustflow.cli;

import org.robustflow.model.Trainer;
import org.robustflow.train.RobustTrainer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code train}: trains a ReLU MLP on the training split and writes the model file, normally or
 * certifiably robust (IBP, CROWN-IBP).
 *
 * <pre>{@code
 * ./robustflow train                                        # the default model
 * ./robustflow train --robust crown-ibp --eps 0.1 --out robust.avro
 * }</pre>
 */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description =
                "Train a fully connected ReLU classifier (softmax cross-entropy, Adam) and save it as an Avro model file;"
                        + " with --robust, certifiably robust against L-infinity perturbations of --eps.")
public final class TrainCommand implements Callable<Integer> {
    @Option(
            names = "--hidden",
            split = ",",
            defaultValue = "50,50,50",
            description = "Hidden layer sizes (default: ${DEFAULT-VALUE}).")
    List<Integer> hidden;

    @Option(
            names = "--epochs",
            description = "Epochs (default: 10, robust: " + RobustTrainer.DEFAULT_EPOCHS + ").")
    Integer epochs;

    @Option(
            names = "--batch-size",
            description =
                    "Mini-batch size (default: 128, robust: " + RobustTrainer.DEFAULT_BATCH + ").")
    Integer batchSize;

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
            names = "--robust",
            description =
                    "Certified training: ibp (interval bounds, Gowal et al. 2018) or crown-ibp (Zhang et al. 2020).")
    String robust;

    @Option(
            names = "--eps",
            description = "With --robust: the L-infinity radius to be robust at (default: 0.1).")
    Double eps;

    @Option(
            names = "--train-eps",
            description = "With --robust: the radius of the training loss (default: 1.2 x --eps).")
    Double trainEps;

    @Option(
            names = "--warmup-epochs",
            description = "With --robust: epochs of natural training first (default: 1).")
    Integer warmupEpochs;

    @Option(
            names = "--ramp-epochs",
            description =
                    "With --robust: epochs over which eps rises from 0 and kappa (and beta) fall (default: "
                            + RobustTrainer.DEFAULT_RAMP
                            + ").")
    Integer rampEpochs;

    @Option(
            names = "--kappa-end",
            description =
                    "With --robust: weight of the natural loss after the ramp, from 1 at the start (default: 0.5).")
    Double kappaEnd;

    @Option(
            names = "--beta-end",
            description =
                    "With --robust crown-ibp: weight of the CROWN-IBP bound (against IBP's) after the ramp, from 1 at the start (default: 1).")
    Double betaEnd;

    @Option(
            names = "--lr-decay",
            description =
                    "With --robust: learning-rate factor per epoch after the ramp (default: 0.8).")
    Double lrDecay;

    @Option(
            names = "--data-dir",
            description = "IDX data set directory (default: the shipped MNIST in data/mnist).")
    Path dataDir;

    @Option(
            names = "--out",
            description =
                    "Model file to write (default: the cached named model, .cache/models/default.avro or, with --robust, robust.avro).")
    Path out;

    @Override
    public Integer call() throws Exception {
        if (robust == null) {
            if (eps != null
                    || trainEps != null
                    || warmupEpochs != null
                    || rampEpochs != null
                    || kappaEnd != null
                    || betaEnd != null
                    || lrDecay != null) {
                throw new picocli.CommandLine.ParameterException(
                        new picocli.CommandLine(this),
                        "--eps, --train-eps, --warmup-epochs, --ramp-epochs, --kappa-end, --beta-end and --lr-decay need --robust");
            }
            Trainer.Settings settings =
                    new Trainer.Settings(
                            hidden,
                            epochs == null ? 10 : epochs,
                            batchSize == null ? 128 : batchSize,
                            learningRate,
                            seed);
            Workspace.train(
                    settings,
                    dataDir,
                    out == null ? Workspace.defaultModelPath() : out,
                    System.out);
            return 0;
        }
        RobustTrainer.Settings defaults =
                RobustTrainer.Settings.of(RobustTrainer.Method.of(robust), eps == null ? 0.1 : eps);
        RobustTrainer.Settings settings =
                new RobustTrainer.Settings(
                        new Trainer.Settings(
                                hidden,
                                epochs == null ? defaults.base().epochs() : epochs,
                                batchSize == null ? defaults.base().batchSize() : batchSize,
                                learningRate,
                                seed),
                        defaults.method(),
                        defaults.eps(),
                        trainEps == null ? defaults.trainEps() : trainEps,
                        warmupEpochs == null ? defaults.warmupEpochs() : warmupEpochs,
                        rampEpochs == null ? defaults.rampEpochs() : rampEpochs,
                        kappaEnd == null ? defaults.kappaEnd() : kappaEnd,
                        betaEnd == null ? defaults.betaEnd() : betaEnd,
                        lrDecay == null ? defaults.lrDecay() : lrDecay);
        Workspace.trainRobust(
                settings,
                dataDir,
                out == null ? Workspace.namedModelPath(Workspace.ROBUST_MODEL) : out,
                System.out);
        return 0;
    }
}
