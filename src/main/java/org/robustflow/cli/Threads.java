package org.robustflow.cli;

/** The thread count of a {@code --threads} option. */
final class Threads {
    private Threads() {}

    /** {@code threads}, or the number of cores when the option was not given. */
    static int orCores(Integer threads) {
        if (threads == null) {
            return Runtime.getRuntime().availableProcessors();
        }
        if (threads < 1) {
            throw new IllegalArgumentException("--threads must be >= 1, was " + threads);
        }
        return threads;
    }
}
