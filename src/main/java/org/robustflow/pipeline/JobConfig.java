package org.robustflow.pipeline;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

import org.robustflow.bounds.EpsilonGrid;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The verification job's settings, immutable. Tuning knobs are declared as {@link ConfigOption}s
 * with defaults and descriptions; {@link #builder()} sets them in code.
 *
 * <pre>{@code
 * JobConfig cfg = JobConfig.builder().eps(EpsilonGrid.parse("0.01:0.1:10")).boundParallelism(2).build();
 * }</pre>
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 1L;

    public static final ConfigOption<String> EPS =
            ConfigOptions.key("robustflow.eps")
                    .stringType()
                    .defaultValue(EpsilonGrid.DEFAULT)
                    .withDescription("Epsilons: start:end:count or a comma list.");
    public static final ConfigOption<String> METHOD =
            ConfigOptions.key("robustflow.bound.method")
                    .stringType()
                    .defaultValue("crown")
                    .withDescription("Bound method: box (interval) or crown (linear relaxation).");
    public static final ConfigOption<Boolean> ATTACK =
            ConfigOptions.key("robustflow.attack.enabled")
                    .booleanType()
                    .defaultValue(true)
                    .withDescription("Run PGD on pairs the bounds leave undecided.");
    public static final ConfigOption<Integer> MILP_MAX_UNSTABLE =
            ConfigOptions.key("robustflow.milp.max-unstable")
                    .intType()
                    .defaultValue(40)
                    .withDescription(
                            "Pairs left UNKNOWN with at most this many unstable ReLUs go to MILP; -1 turns MILP off.");
    public static final ConfigOption<Long> MILP_TIME_LIMIT_MS =
            ConfigOptions.key("robustflow.milp.time-limit-ms")
                    .longType()
                    .defaultValue(10_000L)
                    .withDescription("Time limit of one MILP query.");
    public static final ConfigOption<Integer> MILP_PARALLELISM =
            ConfigOptions.key("robustflow.milp.parallelism")
                    .intType()
                    .defaultValue(1)
                    .withDescription("Parallel instances of the MILP operator.");
    public static final ConfigOption<Integer> BOUND_PARALLELISM =
            ConfigOptions.key("robustflow.bound.parallelism")
                    .intType()
                    .defaultValue(2)
                    .withDescription("Parallel instances of the bound operator.");
    public static final ConfigOption<Long> RESULT_INTERVAL_MS =
            ConfigOptions.key("robustflow.results.interval-ms")
                    .longType()
                    .defaultValue(500L)
                    .withDescription(
                            "At most one accuracy update per (run, model, eps) per interval.");
    public static final ConfigOption<Integer> INPUT_SIZE =
            ConfigOptions.key("robustflow.input-size")
                    .intType()
                    .defaultValue(784)
                    .withDescription("Pixels per image the job accepts (28x28).");

    private final double[] eps;
    private final String method;
    private final boolean attack;
    private final int boundParallelism;
    private final int milpMaxUnstable;
    private final long milpTimeLimitMs;
    private final int milpParallelism;
    private final long resultIntervalMs;
    private final int inputSize;

    private JobConfig(Builder b) {
        this.eps = b.eps.clone();
        this.method = b.method;
        this.attack = b.attack;
        this.boundParallelism = b.boundParallelism;
        this.milpMaxUnstable = b.milpMaxUnstable;
        this.milpTimeLimitMs = b.milpTimeLimitMs;
        this.milpParallelism = b.milpParallelism;
        this.resultIntervalMs = b.resultIntervalMs;
        this.inputSize = b.inputSize;
    }

    public static Builder builder() {
        return new Builder();
    }

    public double[] eps() {
        return eps.clone();
    }

    public String method() {
        return method;
    }

    /** PGD settings, or null when the attack is off. */
    public org.robustflow.attack.Pgd.Settings attack() {
        return attack ? org.robustflow.attack.Pgd.Settings.defaults() : null;
    }

    public int boundParallelism() {
        return boundParallelism;
    }

    /** -1 when MILP is off. */
    public int milpMaxUnstable() {
        return milpMaxUnstable;
    }

    public long milpTimeLimitMs() {
        return milpTimeLimitMs;
    }

    public int milpParallelism() {
        return milpParallelism;
    }

    public long resultIntervalMs() {
        return resultIntervalMs;
    }

    public int inputSize() {
        return inputSize;
    }

    @Override
    public String toString() {
        return "eps="
                + Arrays.toString(eps)
                + " method="
                + method
                + " attack="
                + attack
                + " boundParallelism="
                + boundParallelism
                + " milpMaxUnstable="
                + milpMaxUnstable
                + " resultIntervalMs="
                + resultIntervalMs;
    }

    /** Builds a {@link JobConfig}; unset values take the options' defaults. */
    public static final class Builder {
        private double[] eps = EpsilonGrid.parse(EPS.defaultValue());
        private String method = METHOD.defaultValue();
        private boolean attack = ATTACK.defaultValue();
        private int boundParallelism = BOUND_PARALLELISM.defaultValue();
        private int milpMaxUnstable = MILP_MAX_UNSTABLE.defaultValue();
        private long milpTimeLimitMs = MILP_TIME_LIMIT_MS.defaultValue();
        private int milpParallelism = MILP_PARALLELISM.defaultValue();
        private long resultIntervalMs = RESULT_INTERVAL_MS.defaultValue();
        private int inputSize = INPUT_SIZE.defaultValue();

        public Builder eps(double[] eps) {
            this.eps = eps.clone();
            return this;
        }

        public Builder method(String method) {
            this.method = method;
            return this;
        }

        public Builder attack(boolean enabled) {
            this.attack = enabled;
            return this;
        }

        public Builder boundParallelism(int parallelism) {
            this.boundParallelism = parallelism;
            return this;
        }

        /** Pairs with at most this many unstable ReLUs go to MILP; -1 turns MILP off. */
        public Builder milp(int maxUnstable, long timeLimitMs, int parallelism) {
            this.milpMaxUnstable = maxUnstable;
            this.milpTimeLimitMs = timeLimitMs;
            this.milpParallelism = parallelism;
            return this;
        }

        public Builder resultIntervalMs(long ms) {
            this.resultIntervalMs = ms;
            return this;
        }

        public Builder inputSize(int inputSize) {
            this.inputSize = inputSize;
            return this;
        }

        public JobConfig build() {
            return new JobConfig(this);
        }
    }
}
