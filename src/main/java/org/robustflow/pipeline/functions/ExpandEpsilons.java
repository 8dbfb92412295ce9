package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerificationTask;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Fans each image out to one {@link VerificationTask} per eps under the newest model version.
 *
 * <p>Images that arrive before any model wait in keyed state; none is dropped. A processing-time
 * timer of each waiting image's key looks again every {@code recheckMs}, so the images are released
 * one per timer callback after the first valid model arrives, never all in one call (which would
 * hold the task thread and the checkpoint barriers behind it). Models come as copies from {@link
 * ModelFanout}; only the newest is kept ({@link ModelTable}). A model whose shape does not fit the
 * images goes to the dead-letter output (once, from subtask 0, since every instance receives it)
 * and is ignored.
 */
@VisibleForTesting
public class ExpandEpsilons
        extends KeyedCoProcessFunction<String, ImageEvent, ModelEvent, VerificationTask>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    static final ListStateDescriptor<ImageEvent> PENDING =
            new ListStateDescriptor<>(
                    "images-waiting-for-model", TypeInformation.of(ImageEvent.class));

    private final double[] eps;
    private final int inputSize;
    private final long recheckMs;
    private transient ListState<ImageEvent> pending;
    private transient AtomicLong waiting;
    private transient Counter tasks;
    private transient ModelTable models;

    public ExpandEpsilons(double[] eps, int inputSize, long recheckMs) {
        this.eps = eps.clone();
        this.inputSize = inputSize;
        this.recheckMs = recheckMs;
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getListState(PENDING);
        waiting = new AtomicLong();
        getRuntimeContext().getMetricGroup().gauge("recordsWaitingForModel", waiting::get);
        tasks = getRuntimeContext().getMetricGroup().counter("tasksEmitted");
    }

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        models = new ModelTable("expand-eps-models", 0);
        models.initialize(ctx, 0);
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        models.snapshot(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public void processElement1(ImageEvent image, Context ctx, Collector<VerificationTask> out)
            throws Exception {
        ModelEvent latest = models.latest();
        if (latest == null) {
            pending.add(image);
            waiting.incrementAndGet();
            ctx.timerService()
                    .registerProcessingTimeTimer(
                            ctx.timerService().currentProcessingTime() + recheckMs);
            // Fires only at the end of a bounded input (the final watermark), where processing-time
            // timers are dropped: the waiting images are released then.
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
            return;
        }
        expand(image, latest.version, out);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<VerificationTask> out)
            throws Exception {
        ModelEvent latest = models.latest();
        if (latest == null) {
            if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
                ctx.timerService().registerProcessingTimeTimer(timestamp + recheckMs);
            }
            return;
        }
        if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
            ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
        }
        Iterable<ImageEvent> images = pending.get();
        if (images != null) {
            for (ImageEvent image : images) {
                expand(image, latest.version, out);
                waiting.decrementAndGet();
            }
        }
        pending.clear();
    }

    @Override
    public void processElement2(ModelEvent model, Context ctx, Collector<VerificationTask> out)
            throws Exception {
        if (!models.isNew(model.version)) {
            return;
        }
        String problem;
        try {
            problem = ModelRegistry.shapeProblem(ModelRegistry.decode(model), inputSize);
        } catch (IllegalArgumentException e) {
            problem = e.getMessage();
        }
        if (problem != null) {
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
                ctx.output(
                        ModelStates.DEAD_LETTERS,
                        new DeadLetterEvent(
                                ModelStates.MODELS_SOURCE, -1, -1, problem, model.snapshot));
            }
            return;
        }
        // Only the newest version is kept here (images are always expanded with it); the
        // operators downstream keep the versions that tasks in flight name.
        models.accept(model, ctx.timerService().currentProcessingTime());
    }

    private void expand(ImageEvent image, String modelVersion, Collector<VerificationTask> out) {
        for (double e : eps) {
            out.collect(new VerificationTask(image, e, modelVersion));
        }
        tasks.inc(eps.length);
    }
}
