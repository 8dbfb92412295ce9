package org.robustflow.cli;

import picocli.CommandLine.Option;

/** {@code --threads} of the commands that decide one query at a time: verify and vnncomp. */
final class BabThreadsOption {
    @Option(
            names = "--threads",
            description =
                    "Threads of the branch and bound (default: the number of cores, "
                            + "as VNN-COMP entrants use the whole machine).")
    Integer threads;

    /** The option's value, or the number of cores when it was not given. */
    int count() {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, was " + threads);
        }
        return threads;
    }
}
