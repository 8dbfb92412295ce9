package org.robustflow.cli;

import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.pipeline.JobConfig;
import picocli.CommandLine.Option;

/** The verification job's knobs on the command line. */
final class JobOptions {
    @Option(
            names = "--eps",
            defaultValue = EpsilonGrid.DEFAULT,
            description = "start:end:count or a comma list (default: ${DEFAULT-VALUE}).")
    String eps;

    @Option(
            names = "--method",
            defaultValue = "crown",
            description = "Bound method: box or crown (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--no-attack", description = "Bounds only: no PGD search for counterexamples.")
    boolean noAttack;

    @Option(
            names = "--milp-max-unstable",
            defaultValue = "25",
            description =
                    "Undecided pairs with at most this many unstable ReLUs go to MILP; -1 turns MILP off (default: ${DEFAULT-VALUE}).")
    int milpMaxUnstable;

    @Option(
            names = "--milp-time-limit",
            defaultValue = "5",
            description = "Seconds per MILP query (default: ${DEFAULT-VALUE}).")
    long milpSeconds;

    @Option(
            names = "--milp-parallelism",
            defaultValue = "2",
            description = "MILP operator instances (default: ${DEFAULT-VALUE}).")
    int milpParallelism;

    @Option(
            names = "--parallelism",
            description =
                    "Parallelism of the job and its bound operator (default: the number of cores).")
    Integer parallelism;

    int parallelism() {
        return parallelism == null ? Runtime.getRuntime().availableProcessors() : parallelism;
    }

    JobConfig config() {
        return JobConfig.builder()
                .eps(EpsilonGrid.parse(eps))
                .method(method)
                .attack(!noAttack)
                .boundParallelism(parallelism())
                .milp(milpMaxUnstable, milpSeconds * 1000, milpParallelism)
                .build();
    }
}
