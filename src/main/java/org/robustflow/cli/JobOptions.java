package org.robustflow.cli;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;

import org.robustflow.pipeline.JobConfig;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The verification job's knobs on the command line. Each option here is a shortcut for one {@link
 * JobConfig} option and takes its default from there ({@link Defaults}); {@code -D key=value} sets
 * any of them by key, as in Flink's {@code config.yaml}.
 */
final class JobOptions {
    @Option(
            names = "--eps",
            description = "start:end:count or a comma list (default: ${DEFAULT-VALUE}).")
    String eps;

    @Option(
            names = "--method",
            description = "Bound method: box or crown (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--no-attack", description = "Bounds only: no PGD search for counterexamples.")
    boolean noAttack;

    @Option(
            names = "--milp-max-unstable",
            description =
                    "Undecided pairs with at most this many unstable ReLUs go to MILP; -1 turns MILP off (default: ${DEFAULT-VALUE}).")
    int milpMaxUnstable;

    @Option(
            names = "--milp-time-limit",
            description = "Seconds per MILP query (default: ${DEFAULT-VALUE}).")
    double milpSeconds;

    @Option(
            names = "--milp-parallelism",
            description = "MILP operator instances (default: ${DEFAULT-VALUE}).")
    int milpParallelism;

    @Option(
            names = "--complete",
            description =
                    "Decide every pair: the exact stage becomes branch and bound with alpha/beta-CROWN (robustflow.exact.method=bab) for every undecided pair, --milp-time-limit seconds each unless given (then 60).")
    boolean complete;

    @Option(
            names = "--parallelism",
            description =
                    "Parallelism of the job (default: embedded, the number of cores; on a cluster, its parallelism.default).")
    Integer parallelism;

    @Option(
            names = "-D",
            paramLabel = "KEY=VALUE",
            description =
                    "Any job setting by its key, e.g. -D robustflow.attack.steps=20 (see JobConfig); wins over the shortcuts.")
    Map<String, String> settings = new LinkedHashMap<>();

    /** The parallelism to run embedded with. */
    int localParallelism() {
        return parallelism == null ? Runtime.getRuntime().availableProcessors() : parallelism;
    }

    JobConfig config() {
        Configuration conf = new Configuration();
        conf.set(JobConfig.EPS, eps);
        conf.set(JobConfig.METHOD, method);
        conf.set(JobConfig.ATTACK, !noAttack);
        conf.set(JobConfig.MILP_MAX_UNSTABLE, milpMaxUnstable);
        conf.set(JobConfig.MILP_TIME_LIMIT_MS, Math.round(milpSeconds * 1000));
        conf.set(JobConfig.MILP_PARALLELISM, milpParallelism);
        if (complete) {
            conf.set(JobConfig.EXACT_METHOD, "bab");
            conf.set(JobConfig.MILP_MAX_UNSTABLE, Integer.MAX_VALUE);
            if (milpSeconds == JobConfig.MILP_TIME_LIMIT_MS.defaultValue() / 1000.0) {
                conf.set(JobConfig.MILP_TIME_LIMIT_MS, 60_000L);
            }
        }
        for (Map.Entry<String, String> e : settings.entrySet()) {
            if (JobConfig.OPTIONS.stream().noneMatch(o -> o.key().equals(e.getKey()))) {
                throw new CommandLine.ParameterException(
                        new CommandLine(this), "unknown job setting -D " + e.getKey());
            }
            conf.setString(e.getKey(), e.getValue());
        }
        return JobConfig.fromConfiguration(conf);
    }

    /** Defaults of the shortcut options: those of their {@link JobConfig} options. */
    static final class Defaults implements CommandLine.IDefaultValueProvider {
        private static final Map<String, ConfigOption<?>> BY_NAME =
                Map.of(
                        "--eps", JobConfig.EPS,
                        "--method", JobConfig.METHOD,
                        "--milp-max-unstable", JobConfig.MILP_MAX_UNSTABLE,
                        "--milp-parallelism", JobConfig.MILP_PARALLELISM);

        @Override
        public String defaultValue(ArgSpec arg) {
            if (arg instanceof OptionSpec option) {
                ConfigOption<?> config = BY_NAME.get(option.longestName());
                if (config != null) {
                    return String.valueOf(config.defaultValue());
                }
                if (option.longestName().equals("--milp-time-limit")) {
                    return String.valueOf(JobConfig.MILP_TIME_LIMIT_MS.defaultValue() / 1000.0);
                }
            }
            return null;
        }
    }
}
