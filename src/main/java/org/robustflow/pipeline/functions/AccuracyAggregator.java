package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.VerdictEvent;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts verdicts per (run, model version, eps) and emits robust-accuracy updates.
 *
 * <p>Updates are rate-limited: the first verdict after an emission arms a processing-time timer
 * {@code intervalMs} ahead, which emits the counts as they are then. When the count reaches the
 * run's expected total, a final record with {@code complete = true} goes out at once and the timer
 * is dropped.
 */
@VisibleForTesting
public class AccuracyAggregator extends KeyedProcessFunction<String, VerdictEvent, AccuracyEvent> {
    private static final long serialVersionUID = 1L;

    static final ValueStateDescriptor<AccuracyEvent> COUNTS =
            new ValueStateDescriptor<>("accuracy", TypeInformation.of(AccuracyEvent.class));
    static final ValueStateDescriptor<Long> TIMER =
            new ValueStateDescriptor<>("pending-timer", Long.class);

    private final long intervalMs;
    private transient ValueState<AccuracyEvent> counts;
    private transient ValueState<Long> timer;
    private transient Map<String, AtomicLong> certifiedByEps;

    public AccuracyAggregator(long intervalMs) {
        this.intervalMs = intervalMs;
    }

    /** The key of a verdict's aggregate: run/model/eps. */
    public static String keyOf(VerdictEvent v) {
        return v.runId + "/" + v.modelVersion + "/" + EpsilonGrid.key(v.eps);
    }

    @Override
    public void open(OpenContext openContext) {
        counts = getRuntimeContext().getState(COUNTS);
        timer = getRuntimeContext().getState(TIMER);
        certifiedByEps = new HashMap<>();
    }

    @Override
    public void processElement(VerdictEvent v, Context ctx, Collector<AccuracyEvent> out)
            throws Exception {
        AccuracyEvent a = counts.value();
        if (a == null) {
            a = new AccuracyEvent();
            a.runId = v.runId;
            a.modelVersion = v.modelVersion;
            a.eps = v.eps;
        }
        a.expectedTotal = Math.max(a.expectedTotal, v.expectedTotal);
        a.seen++;
        switch (v.verdict) {
            case CERTIFIED -> {
                a.certified++;
                if ("milp".equals(v.method)) {
                    a.certifiedByMilp++;
                } else {
                    a.certifiedByBounds++;
                }
                certifiedGauge(v.eps).incrementAndGet();
            }
            case FALSIFIED -> {
                a.falsified++;
                if ("milp".equals(v.method)) {
                    a.falsifiedByMilp++;
                } else {
                    a.falsifiedByPgd++;
                }
            }
            case MISCLASSIFIED -> a.misclassified++;
            default -> a.unknown++;
        }
        a.robustAccuracyLower = (double) a.certified / a.seen;
        a.robustAccuracyUpper = (double) (a.seen - a.falsified - a.misclassified) / a.seen;
        a.complete = a.expectedTotal > 0 && a.seen >= a.expectedTotal;
        a.updatedAt = ctx.timerService().currentProcessingTime();
        counts.update(a);

        Long armed = timer.value();
        if (a.complete) {
            if (armed != null) {
                ctx.timerService().deleteProcessingTimeTimer(armed);
                timer.clear();
            }
            out.collect(a);
        } else if (armed == null) {
            long at = ctx.timerService().currentProcessingTime() + intervalMs;
            ctx.timerService().registerProcessingTimeTimer(at);
            timer.update(at);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AccuracyEvent> out)
            throws Exception {
        timer.clear();
        AccuracyEvent a = counts.value();
        if (a != null && !a.complete) {
            a.updatedAt = timestamp;
            out.collect(a);
        }
    }

    /** Certified count per eps, shown in the dashboard as eps.&lt;value&gt;.certified. */
    private AtomicLong certifiedGauge(double eps) {
        return certifiedByEps.computeIfAbsent(
                EpsilonGrid.key(eps),
                key -> {
                    AtomicLong value = new AtomicLong();
                    getRuntimeContext()
                            .getMetricGroup()
                            .addGroup("eps", key)
                            .gauge("certified", value::get);
                    return value;
                });
    }
}
