package org.robustflow.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code robustflow} command line; run through the {@code ./robustflow} launcher at the
 * repository root, which builds the jar when it is missing or stale.
 *
 * <pre>{@code
 * ./robustflow run                                       # everything embedded: Kafka, Flink, live results
 * ./robustflow certify --method crown --eps 0.01:0.1:10   # offline robust accuracy per eps
 * ./robustflow train --epochs 10 --out my-model.avro      # train a model
 * ./robustflow model export --out model.json              # mlp-json/1 for other tools
 * ./robustflow bench                                      # verdicts per second
 * }</pre>
 */
@Command(
        name = "robustflow",
        mixinStandardHelpOptions = true,
        version = "robustflow 0.1.0",
        description =
                "Certify how robust a ReLU image classifier is against L-infinity perturbations.",
        subcommands = {
            RunCommand.class,
            CertifyCommand.class,
            VerifyCommand.class,
            VnncompCommand.class,
            TrainCommand.class,
            ModelCommand.class,
            BenchCommand.class,
            ProduceCommand.class,
            PublishModelCommand.class,
            JobCommand.class,
            ResultsCommand.class,
            VerifyPropertyCommand.class,
            MilpBenchCommand.class,
            ReportCommand.class,
            CompareCommand.class,
            SuiteCommand.class
        })
public final class Main {
    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The configured command line, for tests to execute in-process. */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        // Bad input is the user's to fix: print the message, not a stack trace.
        cli.setExecutionExceptionHandler(
                (e, commandLine, parseResult) -> {
                    commandLine
                            .getErr()
                            .println(
                                    "error: "
                                            + (e.getMessage() == null
                                                    ? e.toString()
                                                    : e.getMessage()));
                    if (Boolean.getBoolean("robustflow.debug")) {
                        e.printStackTrace(commandLine.getErr());
                    }
                    return 2;
                });
        return cli;
    }
}
