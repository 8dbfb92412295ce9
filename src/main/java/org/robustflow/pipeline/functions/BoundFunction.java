package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Decides (image, eps) tasks under each task's model version: sound bounds (box or crown), then a
 * PGD attack on what the bounds leave undecided. Pairs still undecided with few enough unstable
 * ReLUs go on to the exact stage through {@link #TO_MILP} instead of becoming verdicts here.
 *
 * <p><b>Micro-batches.</b> The bound engine bounds many queries against the same weights with one
 * matrix product per layer, which costs far less per query than one call each. A task therefore
 * waits in keyed state (with an id) and in an in-memory batch, and its key gets a timer at most
 * {@code batchLatencyMs} later. The batch is bounded when it holds {@code batchSize} tasks or when
 * the first of its tasks' timers fires, whichever comes first; each task's decision then waits in
 * memory until its own key's timer emits it and clears its state in the same callback. A task whose
 * decision is lost (a restore empties the memory, never the state) is decided alone by that timer.
 * A batch is also cut when, by the running cost per task, bounding and attacking it would hold the
 * task thread longer than the budget. So a verdict is emitted exactly when its task leaves the
 * state, and one call holds the task thread for one batch at most.
 */
@VisibleForTesting
public class BoundFunction extends TaskFunction {
    private static final long serialVersionUID = 2L;

    public static final OutputTag<VerificationTask> TO_MILP =
            new OutputTag<>("to-milp", TypeInformation.of(VerificationTask.class));

    static final ListStateDescriptor<Tuple2<Long, VerificationTask>> QUEUED =
            new ListStateDescriptor<>(
                    "bound-queued",
                    Types.TUPLE(Types.LONG, TypeInformation.of(VerificationTask.class)));

    private final String method;
    private final Pgd.Settings attack;
    private final int milpMaxUnstable;
    private final Batching batching;
    private transient ListState<Tuple2<Long, VerificationTask>> queued;
    private transient List<Queued> batch;
    private transient Map<Long, Decision> decided;
    private transient VersionCache<Certifier> certifiers;
    private transient VersionCache<Cascade> attacks;
    private transient Meter verdictsPerSecond;
    private transient Counter certified;
    private transient Counter routedToMilp;
    private transient Counter batches;
    private transient int lastBatchSize;
    private transient long engineCalls;
    private transient double nanosPerTask;
    private transient Histogram batchMillis;

    /**
     * How tasks are grouped.
     *
     * @param size tasks bounded together at most
     * @param latencyMs a task waits this long at most for its batch to fill
     * @param budgetMs a batch is cut earlier when its tasks would hold the task thread longer than
     *     this, by the running cost per task (bounds and attack)
     */
    public record Batching(int size, long latencyMs, long budgetMs) implements Serializable {
        public Batching {
            if (size < 1 || latencyMs < 0 || budgetMs < 1) {
                throw new IllegalArgumentException(
                        "batch size and budget must be >= 1 and latency >= 0, not "
                                + size
                                + " / "
                                + budgetMs
                                + " / "
                                + latencyMs);
            }
        }
    }

    /** A task whose bounds are not computed yet. */
    private record Queued(long id, VerificationTask task, String version, Network network) {}

    /**
     * @param method bound method, see {@link Certifier#of}
     * @param attack PGD settings for pairs the bounds leave undecided; null for bounds only
     * @param milpMaxUnstable undecided pairs with at most this many unstable ReLUs go to MILP; -1
     *     for none
     * @param batching how tasks are grouped into engine calls
     * @param recheckMs how often tasks waiting for their model look again
     * @param modelRetentionMs keep a superseded model version this long after a task last named it
     */
    public BoundFunction(
            String method,
            Pgd.Settings attack,
            int milpMaxUnstable,
            Batching batching,
            long recheckMs,
            long modelRetentionMs) {
        super("tasks-waiting-for-model", recheckMs, modelRetentionMs);
        this.method = method;
        this.attack = attack;
        this.milpMaxUnstable = milpMaxUnstable;
        this.batching = batching;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        queued = getRuntimeContext().getListState(QUEUED);
        batch = new ArrayList<>();
        decided = new HashMap<>();
        certifiers = new VersionCache<>();
        attacks = new VersionCache<>();
        var metrics = getRuntimeContext().getMetricGroup();
        verdictsPerSecond = metrics.meter("verdictsPerSecond", new MeterView(10));
        certified = metrics.counter("certified");
        routedToMilp = metrics.counter("routedToMilp");
        batches = metrics.counter("boundBatches");
        metrics.gauge("boundBatchSize", () -> lastBatchSize);
        batchMillis =
                metrics.histogram("boundBatchMillis", new DescriptiveStatisticsHistogram(1000));
    }

    @Override
    void decide(
            VerificationTask task,
            String modelVersion,
            Network mlp,
            TimerService timers,
            Collector<VerdictEvent> out,
            SideOutput side)
            throws Exception {
        // Random ids: after a restore the state holds ids of the previous attempt.
        long id = ThreadLocalRandom.current().nextLong();
        queued.add(Tuple2.of(id, task));
        batch.add(new Queued(id, task, modelVersion, mlp));
        timers.registerProcessingTimeTimer(timers.currentProcessingTime() + batching.latencyMs());
        // Fires only at the end of a bounded input, where processing-time timers are dropped.
        timers.registerEventTimeTimer(Long.MAX_VALUE);
        if (batch.size() >= batchLimit()) {
            bound();
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<VerdictEvent> out)
            throws Exception {
        super.onTimer(timestamp, ctx, out);
        Iterable<Tuple2<Long, VerificationTask>> mine = queued.get();
        if (mine == null || !mine.iterator().hasNext()) {
            return;
        }
        List<Tuple2<Long, VerificationTask>> waiting = new ArrayList<>();
        for (Tuple2<Long, VerificationTask> entry : mine) {
            Decision decision = decided.remove(entry.f0);
            if (decision == null && batch.stream().anyMatch(q -> q.id() == entry.f0)) {
                bound();
                decision = decided.remove(entry.f0);
            }
            if (decision == null) {
                decision = alone(entry.f1, ctx.timerService());
            }
            if (decision == null) {
                waiting.add(entry); // restored before its model: a later timer tries again
                continue;
            }
            emit(entry.f1, decision, out, ctx::output);
        }
        queued.update(waiting);
        if (!waiting.isEmpty()) {
            ctx.timerService().registerProcessingTimeTimer(timestamp + batching.latencyMs());
        } else if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME && !hasWaitingTasks()) {
            ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
        }
    }

    /** The batch size at which to bound: the configured one, or fewer when tasks are costly. */
    private int batchLimit() {
        if (nanosPerTask <= 0) {
            return batching.size();
        }
        long fit = (long) (batching.budgetMs() * 1e6 / nanosPerTask);
        return (int) Math.max(1, Math.min(batching.size(), fit));
    }

    /** Bounds every task of the batch, one engine call per model version. */
    private void bound() {
        long started = System.nanoTime();
        int tasks = batch.size();
        Map<String, List<Queued>> byVersion = new LinkedHashMap<>();
        for (Queued q : batch) {
            byVersion.computeIfAbsent(q.version(), v -> new ArrayList<>()).add(q);
        }
        lastBatchSize = batch.size();
        batches.inc();
        engineCalls += byVersion.size();
        batch = new ArrayList<>();
        for (List<Queued> group : byVersion.values()) {
            Network mlp = group.get(0).network();
            String version = group.get(0).version();
            int n = group.size();
            int pixels = mlp.inputSize();
            double[] images = new double[n * pixels];
            int[] labels = new int[n];
            int[] rowImage = new int[n];
            double[] rowEps = new double[n];
            for (int r = 0; r < n; r++) {
                VerificationTask task = group.get(r).task();
                System.arraycopy(task.scaledPixels(), 0, images, r * pixels, pixels);
                labels[r] = task.label;
                rowImage[r] = r;
                rowEps[r] = task.eps;
            }
            Decision[] decisions =
                    Sweep.decideRows(
                            certifier(version, mlp),
                            cascade(version, mlp),
                            images,
                            labels,
                            rowImage,
                            rowEps);
            for (int r = 0; r < n; r++) {
                decided.put(group.get(r).id(), decisions[r]);
            }
        }
        long elapsed = System.nanoTime() - started;
        batchMillis.update(elapsed / 1_000_000);
        double perTask = (double) elapsed / tasks;
        nanosPerTask = nanosPerTask <= 0 ? perTask : 0.8 * nanosPerTask + 0.2 * perTask;
    }

    /** The decision of a task outside any batch (after a restore); null while it has no model. */
    private Decision alone(VerificationTask task, TimerService timers) {
        ModelEvent model = modelFor(task, timers);
        if (model == null) {
            return null;
        }
        Network mlp = registry().get(model);
        engineCalls++;
        return Sweep.decideRows(
                certifier(model.version, mlp),
                cascade(model.version, mlp),
                task.scaledPixels(),
                new int[] {task.label},
                new int[] {0},
                new double[] {task.eps})[0];
    }

    /** Calls of the bound engine so far: one per batch and model version, or per lone task. */
    @VisibleForTesting
    long engineCalls() {
        return engineCalls;
    }

    private Certifier certifier(String version, Network mlp) {
        return certifiers.get(version, v -> Certifier.of(method, mlp));
    }

    private Cascade cascade(String version, Network mlp) {
        return attack == null
                ? null
                : attacks.get(version, v -> new Cascade(mlp, Cascade.Settings.incomplete(attack)));
    }

    private void emit(
            VerificationTask task,
            Decision decision,
            Collector<VerdictEvent> out,
            SideOutput side) {
        if (decision.verdict() == Verdict.UNKNOWN && decision.unstableRelus() <= milpMaxUnstable) {
            routedToMilp.inc();
            side.emit(TO_MILP, task);
            return;
        }
        verdictsPerSecond.markEvent();
        if (decision.verdict() == Verdict.CERTIFIED) {
            certified.inc();
        }
        out.collect(new VerdictEvent(task, decision));
    }
}
