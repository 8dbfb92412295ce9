package org.robustflow.pipeline;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ReadableConfig;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.milp.MilpVerifier;
import org.robustflow.milp.ScipMilpVerifier;
import org.robustflow.pipeline.functions.BoundFunction;
import org.robustflow.verify.CascadeExactVerifier;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * The verification job's settings, immutable. Every setting is one {@link ConfigOption} here, with
 * its only default and a description; the Flink configuration ({@code config.yaml}, {@code -D}),
 * the job's arguments ({@code --robustflow.milp.time-limit-ms 5000}) and the CLI all read these
 * options, so a setting cannot have two defaults.
 *
 * <pre>{@code
 * JobConfig cfg = JobConfig.fromConfiguration(env.getConfiguration());      // config.yaml / -D
 * JobConfig cfg = JobConfig.builder().eps(EpsilonGrid.parse("0.01:0.1:10")).build();
 * }</pre>
 */
public final class JobConfig implements Serializable {
    private static final long serialVersionUID = 2L;

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
    public static final ConfigOption<Integer> ATTACK_STEPS =
            ConfigOptions.key("robustflow.attack.steps")
                    .intType()
                    .defaultValue(Pgd.Settings.defaults().steps())
                    .withDescription("PGD steps per restart.");
    public static final ConfigOption<Integer> ATTACK_RESTARTS =
            ConfigOptions.key("robustflow.attack.restarts")
                    .intType()
                    .defaultValue(Pgd.Settings.defaults().restarts())
                    .withDescription("PGD restarts (the first from the image, then random).");
    public static final ConfigOption<Integer> MILP_MAX_UNSTABLE =
            ConfigOptions.key("robustflow.milp.max-unstable")
                    .intType()
                    .defaultValue(25)
                    .withDescription(
                            "Pairs left UNKNOWN with at most this many unstable ReLUs go to the exact stage; -1 turns it off.");
    public static final ConfigOption<String> EXACT_METHOD =
            ConfigOptions.key("robustflow.exact.method")
                    .stringType()
                    .defaultValue("bab")
                    .withDescription(
                            "The exact stage: bab (the complete cascade: a stronger attack, then branch and bound with alpha/beta-CROWN, as certify --complete; its certificates rest on guarded bounds) or milp (SCIP on the big-M encoding; its certificates rest on the solver's floating-point infeasibility: solver-trusted).");
    public static final ConfigOption<Long> EXACT_MAX_DOMAINS =
            ConfigOptions.key("robustflow.exact.max-domains")
                    .longType()
                    .defaultValue(0L)
                    .withDescription(
                            "With the bab method: subdomains the branch and bound of one query may bound before the pair stays UNKNOWN; 0 for no limit (the time limit alone). A budget reached well before the time limit makes the verdicts independent of the load: the same on every run and after every failover.");
    public static final ConfigOption<Long> MILP_TIME_LIMIT_MS =
            ConfigOptions.key("robustflow.milp.time-limit-ms")
                    .longType()
                    .defaultValue(5_000L)
                    .withDescription("Time limit of one exact query; past it the pair is TIMEOUT.");
    public static final ConfigOption<Integer> MILP_PARALLELISM =
            ConfigOptions.key("robustflow.milp.parallelism")
                    .intType()
                    .defaultValue(2)
                    .withDescription("Parallel instances of the exact-stage operator.");
    public static final ConfigOption<Integer> MILP_THREADS =
            ConfigOptions.key("robustflow.milp.threads")
                    .intType()
                    .defaultValue(1)
                    .withDescription(
                            "Solver threads per exact-stage instance; queries beyond them wait in state, off the task thread.");
    public static final ConfigOption<Integer> BOUND_PARALLELISM =
            ConfigOptions.key("robustflow.bound.parallelism")
                    .intType()
                    .defaultValue(-1)
                    .withDescription(
                            "Parallel instances of the bound operator; -1 for the job's parallelism (on a cluster: its parallelism.default).");
    public static final ConfigOption<Integer> BOUND_BATCH_SIZE =
            ConfigOptions.key("robustflow.bound.batch-size")
                    .intType()
                    .defaultValue(32)
                    .withDescription(
                            "Tasks the bound operator bounds together at most (one engine call per batch and model version).");
    public static final ConfigOption<Long> BOUND_BATCH_LATENCY_MS =
            ConfigOptions.key("robustflow.bound.batch-latency-ms")
                    .longType()
                    .defaultValue(20L)
                    .withDescription(
                            "A task waits at most this long for its bound batch to fill; 0 bounds every task at its own timer.");
    public static final ConfigOption<Long> BOUND_BATCH_BUDGET_MS =
            ConfigOptions.key("robustflow.bound.batch-budget-ms")
                    .longType()
                    .defaultValue(30L)
                    .withDescription(
                            "A bound batch is cut earlier when, by the running cost per task, bounding and attacking it would hold the task thread longer than this.");
    public static final ConfigOption<Long> RESULT_INTERVAL_MS =
            ConfigOptions.key("robustflow.results.interval-ms")
                    .longType()
                    .defaultValue(500L)
                    .withDescription("At most one accuracy update per run per interval.");
    public static final ConfigOption<Long> RUN_STALL_MS =
            ConfigOptions.key("robustflow.runs.stall-report-ms")
                    .longType()
                    .defaultValue(30_000L)
                    .withDescription(
                            "A run without progress for this long gets its missing image ids listed in the results; 0 never.");
    public static final ConfigOption<Long> RUN_RETENTION_MS =
            ConfigOptions.key("robustflow.runs.retention-ms")
                    .longType()
                    .defaultValue(600_000L)
                    .withDescription(
                            "The tracker state of a complete run is dropped this long after completion.");
    public static final ConfigOption<Long> MODEL_RECHECK_MS =
            ConfigOptions.key("robustflow.models.recheck-ms")
                    .longType()
                    .defaultValue(200L)
                    .withDescription(
                            "Records waiting for their model look again after this long, one per timer, so a model's arrival never releases a backlog in one call.");
    public static final ConfigOption<Long> MODEL_RETENTION_MS =
            ConfigOptions.key("robustflow.models.retention-ms")
                    .longType()
                    .defaultValue(600_000L)
                    .withDescription(
                            "A model version that is no longer the newest is dropped once no task has named it for this long; a task that names it later is decided under the newest.");
    public static final ConfigOption<Long> PROPERTY_MODEL_WAIT_MS =
            ConfigOptions.key("robustflow.properties.model-wait-ms")
                    .longType()
                    .defaultValue(600_000L)
                    .withDescription(
                            "A property whose model has not arrived after this long is answered error, so its suite completes.");
    public static final ConfigOption<Integer> MODEL_KEY_GROUPS =
            ConfigOptions.key("robustflow.models.key-groups")
                    .intType()
                    .defaultValue(16)
                    .withDescription(
                            "Max parallelism of the operators that use the models: each model is sent to them once per key group, so every instance gets it over a keyed (unaligned-checkpoint capable) edge.");
    public static final ConfigOption<Long> TRANSACTION_TIMEOUT_MS =
            ConfigOptions.key("robustflow.kafka.transaction-timeout-ms")
                    .longType()
                    .defaultValue(600_000L)
                    .withDescription(
                            "transaction.timeout.ms of the exactly-once sinks: at most the broker's transaction.max.timeout.ms (15 min by default). Longer than any outage whose output must survive (a checkpoint's transaction is committed after the job is back); a transaction a crash leaves open hides later results from read_committed readers for at most this long.");
    public static final ConfigOption<Integer> INPUT_SIZE =
            ConfigOptions.key("robustflow.input-size")
                    .intType()
                    .defaultValue(784)
                    .withDescription("Pixels per image the job accepts (28x28).");

    /** Every option, for help texts and argument parsing. */
    public static final List<ConfigOption<?>> OPTIONS =
            List.of(
                    EPS,
                    METHOD,
                    ATTACK,
                    ATTACK_STEPS,
                    ATTACK_RESTARTS,
                    MILP_MAX_UNSTABLE,
                    EXACT_METHOD,
                    EXACT_MAX_DOMAINS,
                    MILP_TIME_LIMIT_MS,
                    MILP_PARALLELISM,
                    MILP_THREADS,
                    BOUND_PARALLELISM,
                    BOUND_BATCH_SIZE,
                    BOUND_BATCH_LATENCY_MS,
                    BOUND_BATCH_BUDGET_MS,
                    RESULT_INTERVAL_MS,
                    RUN_STALL_MS,
                    RUN_RETENTION_MS,
                    MODEL_RECHECK_MS,
                    MODEL_RETENTION_MS,
                    PROPERTY_MODEL_WAIT_MS,
                    MODEL_KEY_GROUPS,
                    TRANSACTION_TIMEOUT_MS,
                    INPUT_SIZE);

    private final Configuration conf;
    private final double[] eps;

    private JobConfig(Configuration conf) {
        this.conf = new Configuration(conf);
        this.eps = EpsilonGrid.parse(conf.get(EPS));
    }

    public static Builder builder() {
        return new Builder(new Configuration());
    }

    /** The settings in {@code config}; options it does not set take their defaults. */
    public static JobConfig fromConfiguration(ReadableConfig config) {
        Configuration conf = new Configuration();
        for (ConfigOption<?> option : OPTIONS) {
            copy(config, conf, option);
        }
        JobConfig cfg = new JobConfig(conf);
        cfg.exactVerifier(); // an unknown exact method fails here, before the job starts
        if (cfg.conf.get(EXACT_MAX_DOMAINS) < 0) {
            throw new IllegalArgumentException(
                    EXACT_MAX_DOMAINS.key()
                            + " must be >= 0, was "
                            + cfg.conf.get(EXACT_MAX_DOMAINS));
        }
        return cfg;
    }

    private static <T> void copy(ReadableConfig from, Configuration to, ConfigOption<T> option) {
        from.getOptional(option).ifPresent(value -> to.set(option, value));
    }

    /** The options set explicitly, e.g. to pass on as job arguments. */
    public Configuration toConfiguration() {
        return new Configuration(conf);
    }

    public double[] eps() {
        return eps.clone();
    }

    public String method() {
        return conf.get(METHOD);
    }

    /** PGD settings, or null when the attack is off. */
    public Pgd.Settings attack() {
        if (!conf.get(ATTACK)) {
            return null;
        }
        Pgd.Settings d = Pgd.Settings.defaults();
        return new Pgd.Settings(
                conf.get(ATTACK_STEPS), conf.get(ATTACK_RESTARTS), d.stepFraction(), d.seed());
    }

    /** Parallelism of the bound operator; -1 for the job's. */
    public int boundParallelism() {
        return conf.get(BOUND_PARALLELISM);
    }

    /** How the bound operator groups tasks into engine calls. */
    public BoundFunction.Batching boundBatching() {
        return new BoundFunction.Batching(
                conf.get(BOUND_BATCH_SIZE),
                conf.get(BOUND_BATCH_LATENCY_MS),
                conf.get(BOUND_BATCH_BUDGET_MS));
    }

    /** -1 when MILP is off. */
    public int milpMaxUnstable() {
        return conf.get(MILP_MAX_UNSTABLE);
    }

    public String exactMethod() {
        return conf.get(EXACT_METHOD);
    }

    /** The exact stage's verifier, by {@link #EXACT_METHOD}. */
    public MilpVerifier exactVerifier() {
        switch (exactMethod()) {
            case "milp":
                return new ScipMilpVerifier();
            case "bab":
                return new CascadeExactVerifier(
                        attack() == null ? Pgd.Settings.defaults() : attack(),
                        conf.get(EXACT_MAX_DOMAINS));
            default:
                throw new IllegalArgumentException(
                        EXACT_METHOD.key() + " is milp or bab, not " + exactMethod());
        }
    }

    public long milpTimeLimitMs() {
        return conf.get(MILP_TIME_LIMIT_MS);
    }

    public int milpParallelism() {
        return conf.get(MILP_PARALLELISM);
    }

    public int milpThreads() {
        return conf.get(MILP_THREADS);
    }

    public long resultIntervalMs() {
        return conf.get(RESULT_INTERVAL_MS);
    }

    public long runStallMs() {
        return conf.get(RUN_STALL_MS);
    }

    public long runRetentionMs() {
        return conf.get(RUN_RETENTION_MS);
    }

    public long modelRecheckMs() {
        return conf.get(MODEL_RECHECK_MS);
    }

    public long modelRetentionMs() {
        return conf.get(MODEL_RETENTION_MS);
    }

    public long propertyModelWaitMs() {
        return conf.get(PROPERTY_MODEL_WAIT_MS);
    }

    public int modelKeyGroups() {
        return conf.get(MODEL_KEY_GROUPS);
    }

    public long transactionTimeoutMs() {
        return conf.get(TRANSACTION_TIMEOUT_MS);
    }

    public int inputSize() {
        return conf.get(INPUT_SIZE);
    }

    @Override
    public String toString() {
        return "eps=" + Arrays.toString(eps) + " " + conf.toMap();
    }

    /** Builds a {@link JobConfig}; unset values take the options' defaults. */
    public static final class Builder {
        private final Configuration conf;

        private Builder(Configuration conf) {
            this.conf = conf;
        }

        /** Any option by its {@link ConfigOption}. */
        public <T> Builder set(ConfigOption<T> option, T value) {
            conf.set(option, value);
            return this;
        }

        public Builder eps(double[] eps) {
            StringBuilder s = new StringBuilder();
            for (double e : eps) {
                s.append(s.length() == 0 ? "" : ",").append(e);
            }
            conf.set(EPS, s.toString());
            return this;
        }

        public Builder method(String method) {
            return set(METHOD, method);
        }

        public Builder attack(boolean enabled) {
            return set(ATTACK, enabled);
        }

        public Builder boundParallelism(int parallelism) {
            return set(BOUND_PARALLELISM, parallelism);
        }

        /** Pairs with at most this many unstable ReLUs go to MILP; -1 turns MILP off. */
        public Builder milp(int maxUnstable, long timeLimitMs, int parallelism) {
            set(MILP_MAX_UNSTABLE, maxUnstable);
            set(MILP_TIME_LIMIT_MS, timeLimitMs);
            return set(MILP_PARALLELISM, parallelism);
        }

        public Builder resultIntervalMs(long ms) {
            return set(RESULT_INTERVAL_MS, ms);
        }

        public Builder inputSize(int inputSize) {
            return set(INPUT_SIZE, inputSize);
        }

        public JobConfig build() {
            return new JobConfig(conf);
        }
    }
}
