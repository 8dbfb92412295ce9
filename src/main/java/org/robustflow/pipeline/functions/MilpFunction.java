package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.util.Collector;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.milp.MilpResult;
import org.robustflow.milp.MilpVerifier;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.verify.Decision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides the small pairs the bounds and the attack left open with an exact MILP query, under a
 * time limit: CERTIFIED, FALSIFIED (with a re-checked witness) or TIMEOUT.
 *
 * <p>The solver never runs on the task thread. A query is handed to a fixed pool of {@code threads}
 * solver threads and its task stays in keyed state until its verdict is out; a processing-time
 * timer of the task's key polls the query every {@link #POLL_MS} and emits the verdict from the
 * task thread. At most {@code 2 * threads} queries are queued or running per instance; the others
 * wait in state and are submitted by later polls. A query still running at its time limit plus
 * {@link #GRACE_MS} is abandoned as TIMEOUT. After a restore the polls find no running query for
 * their task and submit it again, so no task is lost.
 */
@VisibleForTesting
public class MilpFunction extends TaskFunction {
    private static final long serialVersionUID = 2L;

    private static final Logger LOG = LoggerFactory.getLogger(MilpFunction.class);

    static final long POLL_MS = 50;
    static final long GRACE_MS = 2_000;

    static final ValueStateDescriptor<VerificationTask> IN_FLIGHT =
            new ValueStateDescriptor<>("milp-query", TypeInformation.of(VerificationTask.class));

    private final MilpVerifier verifier;
    private final long timeLimitMs;
    private final int threads;
    private transient ValueState<VerificationTask> inFlight;
    private transient ExecutorService solvers;
    private transient AtomicInteger submitted;
    private transient Map<String, Query> running;
    private transient VersionCache<CrownPropagator> propagators;
    private transient Counter certified;
    private transient Counter falsified;
    private transient Counter timedOut;

    /** A query handed to a solver thread. */
    private record Query(Future<VerdictEvent> result, long startedAt) {}

    public MilpFunction(
            MilpVerifier verifier,
            long timeLimitMs,
            int threads,
            long recheckMs,
            long modelRetentionMs) {
        super("milp-tasks-waiting-for-model", recheckMs, modelRetentionMs);
        this.verifier = verifier;
        this.timeLimitMs = timeLimitMs;
        this.threads = Math.max(1, threads);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        inFlight = getRuntimeContext().getState(IN_FLIGHT);
        AtomicInteger n = new AtomicInteger();
        solvers =
                Executors.newFixedThreadPool(
                        threads,
                        r -> {
                            Thread t = new Thread(r, "milp-solver-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        submitted = new AtomicInteger();
        running = new HashMap<>();
        propagators = new VersionCache<>();
        certified = getRuntimeContext().getMetricGroup().counter("milpCertified");
        falsified = getRuntimeContext().getMetricGroup().counter("milpFalsified");
        timedOut = getRuntimeContext().getMetricGroup().counter("milpTimeouts");
        getRuntimeContext().getMetricGroup().gauge("milpQueriesInFlight", submitted::get);
    }

    @Override
    public void close() throws Exception {
        if (solvers != null) {
            solvers.shutdownNow(); // the tasks are in state: a restarted job solves them again
        }
        super.close();
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
        inFlight.update(task);
        trySubmit(task, mlp, timers.currentProcessingTime(), false);
        timers.registerProcessingTimeTimer(timers.currentProcessingTime() + POLL_MS);
        // Fires only at the end of a bounded input, where processing-time timers are dropped: the
        // query is then awaited on the task thread, which has nothing else left to do.
        timers.registerEventTimeTimer(Long.MAX_VALUE);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<VerdictEvent> out)
            throws Exception {
        super.onTimer(timestamp, ctx, out);
        VerificationTask task = inFlight.value();
        if (task == null) {
            return;
        }
        String key = ctx.getCurrentKey();
        Query query = running.get(key);
        if (query == null) {
            ModelEvent model = modelFor(task, ctx.timerService());
            if (model != null) {
                query =
                        trySubmit(
                                task,
                                registry().get(model),
                                timestamp,
                                ctx.timeDomain() == TimeDomain.EVENT_TIME);
            }
        }
        if (ctx.timeDomain() == TimeDomain.EVENT_TIME) {
            // End of input: wait for this query here (at most its time limit plus the grace).
            if (query == null) {
                return; // its model never came: nothing can decide it
            }
            VerdictEvent v;
            try {
                v = query.result().get(timeLimitMs + GRACE_MS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                query.result().cancel(true);
                v = timeout(task);
            }
            finish(key, ctx, v, out);
            return;
        }
        if (query != null && query.result().isDone()) {
            finish(key, ctx, resultOrTimeout(query.result(), task), out);
            return;
        }
        if (query != null && timestamp - query.startedAt() > timeLimitMs + GRACE_MS) {
            query.result().cancel(true);
            finish(key, ctx, timeout(task), out);
            return;
        }
        ctx.timerService().registerProcessingTimeTimer(timestamp + POLL_MS);
    }

    private void finish(
            String key, OnTimerContext ctx, VerdictEvent verdict, Collector<VerdictEvent> out)
            throws Exception {
        if (running.remove(key) != null) {
            submitted.decrementAndGet();
        }
        inFlight.clear();
        if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
            ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
        }
        emit(verdict, out);
    }

    /**
     * Submits the query unless {@code 2 * threads} are queued or running and not {@code force}d;
     * null then.
     */
    private Query trySubmit(VerificationTask task, Network mlp, long now, boolean force) {
        if (!force && submitted.get() >= 2 * threads) {
            return null; // a later poll submits it
        }
        // CROWN bounds here (~2 ms): the propagator keeps buffers and is not shared across threads.
        double[] x = task.scaledPixels();
        double[][] box = InputBox.of(x, task.eps);
        CrownPropagator.RowBounds bounds =
                propagators
                        .get(task.modelVersion, v -> new CrownPropagator(mlp))
                        .bound(box[0], box[1], task.label);
        Future<VerdictEvent> result =
                solvers.submit(
                        () -> {
                            MilpResult r =
                                    verifier.verify(
                                            mlp, x, task.label, task.eps, bounds, timeLimitMs);
                            double margin =
                                    Arrays.stream(bounds.marginLower()).min().orElse(Double.NaN);
                            return new VerdictEvent(
                                    task,
                                    new Decision(
                                            r.verdict(),
                                            verifier.method(),
                                            task.label,
                                            margin,
                                            bounds.unstableRelus(),
                                            r.micros(),
                                            r.witness(),
                                            r.witnessClass()));
                        });
        submitted.incrementAndGet();
        Query query = new Query(result, now);
        running.put(key(task), query);
        return query;
    }

    private static String key(VerificationTask task) {
        return task.key();
    }

    /** A solver that failed decided nothing: the pair is TIMEOUT, like one out of time. */
    private VerdictEvent resultOrTimeout(Future<VerdictEvent> result, VerificationTask task) {
        try {
            return result.get();
        } catch (Exception e) {
            LOG.warn("MILP query for {} failed; reported as TIMEOUT", task.key(), e);
            return timeout(task);
        }
    }

    private VerdictEvent timeout(VerificationTask task) {
        return new VerdictEvent(task, Verdict.TIMEOUT, verifier.method(), -1, Double.NaN, -1, 0);
    }

    private void emit(VerdictEvent v, Collector<VerdictEvent> out) {
        switch (v.verdict) {
            case CERTIFIED -> certified.inc();
            case FALSIFIED -> falsified.inc();
            default -> timedOut.inc();
        }
        out.collect(v);
    }
}
