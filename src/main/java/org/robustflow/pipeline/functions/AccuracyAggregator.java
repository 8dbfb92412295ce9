package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.RunProgress;
import org.robustflow.pipeline.records.RunSignal;
import org.robustflow.pipeline.records.VerdictEvent;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Tracks one run (keyed by run id): counts verdicts per (model version, eps) and decides when the
 * run is complete.
 *
 * <p>A run of N images (N from its announcement, or from the images' {@code expectedTotal}) is
 * complete when every image is done: verdicted at every eps, under whatever model version it was
 * expanded with, or rejected (a dead letter). Completion therefore survives model updates mid-run
 * and rejected images; counting verdicts per (model, eps) against N would not.
 *
 * <p>Updates are rate-limited: the first change after an emission arms a processing-time timer
 * {@code intervalMs} ahead, which emits every row of the run. On completion every row goes out at
 * once with {@code complete = true}. A run that makes no progress for {@code stallMs} gets one more
 * emission listing up to 100 missing image ids, so readers can say what they wait for. The state of
 * a complete run is dropped {@code retentionMs} after completion.
 */
@VisibleForTesting
public class AccuracyAggregator
        extends KeyedCoProcessFunction<String, VerdictEvent, RunSignal, AccuracyEvent> {
    private static final long serialVersionUID = 1L;

    /** Marks a rejected image in {@link #IMAGES}. */
    static final int REJECTED = -1;

    static final int MAX_MISSING_LISTED = 100;

    static final ValueStateDescriptor<RunProgress> PROGRESS =
            new ValueStateDescriptor<>("run-progress", TypeInformation.of(RunProgress.class));
    static final MapStateDescriptor<String, AccuracyEvent> ROWS =
            new MapStateDescriptor<>(
                    "accuracy-rows", Types.STRING, TypeInformation.of(AccuracyEvent.class));
    static final MapStateDescriptor<Long, Integer> IMAGES =
            new MapStateDescriptor<>("verdicts-per-image", Types.LONG, Types.INT);
    static final ValueStateDescriptor<Long> TIMER =
            new ValueStateDescriptor<>("pending-timer", Long.class);

    private final int epsPerImage;
    private final long intervalMs;
    private final long stallMs;
    private final long retentionMs;
    private transient ValueState<RunProgress> progress;
    private transient MapState<String, AccuracyEvent> rows;
    private transient MapState<Long, Integer> images;
    private transient ValueState<Long> timer;
    private transient Map<String, AtomicLong> certifiedByEps;

    /**
     * @param epsPerImage verdicts that make an image done
     * @param intervalMs at most one emission per run per interval
     * @param stallMs list missing images after this long without progress; 0 never
     * @param retentionMs keep a complete run's state this long (late duplicates still count)
     */
    public AccuracyAggregator(int epsPerImage, long intervalMs, long stallMs, long retentionMs) {
        this.epsPerImage = epsPerImage;
        this.intervalMs = intervalMs;
        this.stallMs = stallMs;
        this.retentionMs = retentionMs;
    }

    /** The key of a row within its run: model/eps. */
    static String rowKey(VerdictEvent v) {
        return v.modelVersion + "/" + EpsilonGrid.key(v.eps);
    }

    @Override
    public void open(OpenContext openContext) {
        progress = getRuntimeContext().getState(PROGRESS);
        rows = getRuntimeContext().getMapState(ROWS);
        images = getRuntimeContext().getMapState(IMAGES);
        timer = getRuntimeContext().getState(TIMER);
        certifiedByEps = new HashMap<>();
    }

    @Override
    public void processElement1(VerdictEvent v, Context ctx, Collector<AccuracyEvent> out)
            throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        RunProgress p = progress();
        String key = rowKey(v);
        AccuracyEvent a = rows.get(key);
        if (a == null) {
            a = new AccuracyEvent();
            a.runId = v.runId;
            a.modelVersion = v.modelVersion;
            a.eps = v.eps;
        }
        count(a, v);
        rows.put(key, a);

        setExpected(p, p.announced ? p.expected : Math.max(p.expected, v.expectedTotal));
        Integer n = images.get(v.imageId);
        if (n == null || n != REJECTED) {
            int verdicts = (n == null ? 0 : n) + 1;
            images.put(v.imageId, verdicts);
            if (verdicts == epsPerImage && inRun(p, v.imageId)) {
                p.imagesDone++;
            }
        }
        changed(p, now, ctx, out);
    }

    @Override
    public void processElement2(RunSignal s, Context ctx, Collector<AccuracyEvent> out)
            throws Exception {
        long now = ctx.timerService().currentProcessingTime();
        RunProgress p = progress();
        if (s.kind == RunSignal.Kind.ANNOUNCED) {
            p.announced = true;
            setExpected(p, s.imageCount);
        } else {
            if (!p.announced) {
                setExpected(p, Math.max(p.expected, s.imageCount));
            }
            // An id that already has verdicts was accepted once; a second, bad copy of it does not
            // make the run longer. A rejection without an id (nothing of the message was
            // readable) is counted, but cannot make any image done.
            if (s.imageId < 0 || images.get(s.imageId) == null) {
                p.rejected++;
                if (s.imageId >= 0) {
                    images.put(s.imageId, REJECTED);
                    if (inRun(p, s.imageId)) {
                        p.imagesDone++;
                    }
                }
            }
        }
        changed(p, now, ctx, out);
    }

    /** Whether an image id is one of the run's: 0..expected-1. */
    private static boolean inRun(RunProgress p, long imageId) {
        return imageId >= 0 && imageId < p.expected;
    }

    private boolean isDone(Integer verdicts) {
        return verdicts != null && (verdicts == REJECTED || verdicts >= epsPerImage);
    }

    /**
     * Sets the run's image count; when it changes (rare: the announcement arrives after images, or
     * images say different counts), the done images are counted again for the new range.
     */
    private void setExpected(RunProgress p, int expected) throws Exception {
        if (expected == p.expected) {
            return;
        }
        p.expected = expected;
        long done = 0;
        for (Map.Entry<Long, Integer> e : images.entries()) {
            if (inRun(p, e.getKey()) && isDone(e.getValue())) {
                done++;
            }
        }
        p.imagesDone = done;
    }

    private RunProgress progress() throws Exception {
        RunProgress p = progress.value();
        return p == null ? new RunProgress() : p;
    }

    private void changed(RunProgress p, long now, Context ctx, Collector<AccuracyEvent> out)
            throws Exception {
        p.lastProgressAt = now;
        p.stallReported = false;
        p.dirty = true;
        Long armed = timer.value();
        if (!p.complete && p.expected > 0 && p.imagesDone >= p.expected) {
            p.complete = true;
            p.cleanupAt = now + retentionMs;
            if (armed != null) {
                ctx.timerService().deleteProcessingTimeTimer(armed);
            }
            ctx.timerService().registerProcessingTimeTimer(p.cleanupAt);
            timer.update(p.cleanupAt);
            emit(p, ctx.getCurrentKey(), now, new long[0], out);
        } else if (p.complete) {
            // A late duplicate after completion: counted, and the rows go out again at once.
            emit(p, ctx.getCurrentKey(), now, new long[0], out);
        } else if (armed == null || armed > now + intervalMs) {
            if (armed != null) {
                ctx.timerService().deleteProcessingTimeTimer(armed); // a stall check: too late
            }
            ctx.timerService().registerProcessingTimeTimer(now + intervalMs);
            timer.update(now + intervalMs);
        }
        progress.update(p);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<AccuracyEvent> out)
            throws Exception {
        timer.clear();
        RunProgress p = progress.value();
        if (p == null) {
            return;
        }
        if (p.complete) {
            if (timestamp >= p.cleanupAt) {
                progress.clear();
                rows.clear();
                images.clear();
            }
            return;
        }
        if (p.dirty) {
            emit(p, ctx.getCurrentKey(), timestamp, new long[0], out);
            if (stallMs > 0) {
                long check = p.lastProgressAt + stallMs;
                ctx.timerService().registerProcessingTimeTimer(check);
                timer.update(check);
            }
        } else if (stallMs > 0
                && !p.stallReported
                && timestamp - p.lastProgressAt >= stallMs
                && p.expected > 0) {
            emit(p, ctx.getCurrentKey(), timestamp, missing(p), out);
            p.stallReported = true;
        }
        progress.update(p);
    }

    /** Up to {@link #MAX_MISSING_LISTED} ids in 0..expected-1 that are not done. */
    private long[] missing(RunProgress p) throws Exception {
        List<Long> ids = new ArrayList<>();
        for (long id = 0; id < p.expected && ids.size() < MAX_MISSING_LISTED; id++) {
            if (!isDone(images.get(id))) {
                ids.add(id);
            }
        }
        return ids.stream().mapToLong(Long::longValue).toArray();
    }

    /**
     * Every row of the run with the run-level fields; a run without verdicts yet (all rejected, or
     * stalled before its first verdict) gets one row without model version, eps 0.
     */
    private void emit(
            RunProgress p, String runId, long now, long[] missing, Collector<AccuracyEvent> out)
            throws Exception {
        p.dirty = false;
        List<AccuracyEvent> all = new ArrayList<>();
        rows.values().forEach(all::add);
        int runRows = all.size();
        if (all.isEmpty()) {
            AccuracyEvent runOnly = new AccuracyEvent();
            runOnly.runId = runId;
            runOnly.modelVersion = "";
            all.add(runOnly);
        }
        for (AccuracyEvent a : all) {
            a.expectedTotal = p.expected;
            a.rejected = p.rejected;
            a.imagesDone = p.imagesDone;
            a.complete = p.complete;
            a.runRows = runRows;
            a.missingImages = missing;
            a.updatedAt = now;
            out.collect(a);
        }
    }

    /**
     * Whether the exact stage decided {@code v} (MILP or branch and bound; the results fields keep
     * their old "ByMilp" names for schema compatibility).
     */
    private static boolean byExactStage(VerdictEvent v) {
        return v.method != null && (v.method.equals("milp") || v.method.startsWith("bab"));
    }

    private void count(AccuracyEvent a, VerdictEvent v) {
        a.seen++;
        switch (v.verdict) {
            case CERTIFIED -> {
                a.certified++;
                if (byExactStage(v)) {
                    a.certifiedByMilp++;
                } else {
                    a.certifiedByBounds++;
                }
                certifiedGauge(v.eps).incrementAndGet();
            }
            case FALSIFIED -> {
                a.falsified++;
                if (byExactStage(v)) {
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
