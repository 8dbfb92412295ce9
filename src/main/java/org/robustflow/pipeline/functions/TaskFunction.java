package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;

import java.util.ArrayList;
import java.util.List;

/**
 * An operator that decides (image, eps) tasks under the model version each task names.
 *
 * <p>Models arrive as copies from {@link ModelFanout} and are held in a {@link ModelTable}: the
 * newest, and superseded versions until no task has named them for {@code modelRetentionMs}. Model
 * and task channels are not ordered against each other, so a task may arrive before its model
 * reaches this instance: it then waits in keyed state, and a processing-time timer of its key looks
 * again every {@code recheckMs}. A model's arrival releases nothing by itself: each waiting task is
 * decided in its own timer callback, so a backlog never holds the task thread (and the checkpoint
 * barriers behind it) for one long call.
 */
abstract class TaskFunction
        extends KeyedCoProcessFunction<String, VerificationTask, ModelEvent, VerdictEvent>
        implements CheckpointedFunction {
    private static final long serialVersionUID = 1L;

    private final ListStateDescriptor<VerificationTask> pendingDescriptor;
    private final long recheckMs;
    private final long modelRetentionMs;
    private transient ListState<VerificationTask> pending;
    private transient ModelRegistry registry;
    private transient ModelTable models;

    TaskFunction(String pendingStateName, long recheckMs, long modelRetentionMs) {
        this.pendingDescriptor =
                new ListStateDescriptor<>(
                        pendingStateName, TypeInformation.of(VerificationTask.class));
        this.recheckMs = recheckMs;
        this.modelRetentionMs = modelRetentionMs;
    }

    /** The model versions this instance holds, newest last. */
    @VisibleForTesting
    List<String> modelVersions() {
        return models.versions();
    }

    ModelRegistry registry() {
        return registry;
    }

    /** Whether tasks of the current key still wait for their model. */
    boolean hasWaitingTasks() throws Exception {
        Iterable<VerificationTask> waiting = pending.get();
        return waiting != null && waiting.iterator().hasNext();
    }

    /** Where a task can be routed instead of becoming a verdict. */
    interface SideOutput {
        void emit(org.apache.flink.util.OutputTag<VerificationTask> tag, VerificationTask task);
    }

    /**
     * Decides one task; emits a verdict on {@code out} or routes the task on through {@code side}.
     */
    abstract void decide(
            VerificationTask task,
            String modelVersion,
            Network mlp,
            TimerService timers,
            Collector<VerdictEvent> out,
            SideOutput side)
            throws Exception;

    @Override
    public void initializeState(FunctionInitializationContext ctx) throws Exception {
        models = new ModelTable(pendingDescriptor.getName() + "-models", modelRetentionMs);
        models.initialize(ctx, System.currentTimeMillis());
    }

    @Override
    public void snapshotState(FunctionSnapshotContext ctx) throws Exception {
        models.snapshot(getRuntimeContext().getTaskInfo().getIndexOfThisSubtask());
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        pending = getRuntimeContext().getListState(pendingDescriptor);
        registry = new ModelRegistry();
    }

    /** The model to decide {@code task} with, or null while it has not arrived. */
    ModelEvent modelFor(VerificationTask task, TimerService timers) {
        ModelEvent model = models.forTask(task.modelVersion, timers.currentProcessingTime());
        if (model != null && !model.version.equals(task.modelVersion)) {
            task.modelVersion = model.version; // its version was dropped: decided by the newest
        }
        return model;
    }

    @Override
    public void processElement1(VerificationTask task, Context ctx, Collector<VerdictEvent> out)
            throws Exception {
        ModelEvent model = modelFor(task, ctx.timerService());
        if (model == null) {
            pending.add(task);
            ctx.timerService()
                    .registerProcessingTimeTimer(
                            ctx.timerService().currentProcessingTime() + recheckMs);
            // Fires only at the end of a bounded input, where processing-time timers are dropped.
            ctx.timerService().registerEventTimeTimer(Long.MAX_VALUE);
            return;
        }
        decide(task, model.version, registry.get(model), ctx.timerService(), out, ctx::output);
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<VerdictEvent> out)
            throws Exception {
        Iterable<VerificationTask> waiting = pending.get();
        if (waiting == null || !waiting.iterator().hasNext()) {
            return;
        }
        List<VerificationTask> ready = new ArrayList<>();
        List<ModelEvent> readyModels = new ArrayList<>();
        List<VerificationTask> stillWaiting = new ArrayList<>();
        for (VerificationTask task : waiting) {
            ModelEvent model = modelFor(task, ctx.timerService());
            if (model == null) {
                stillWaiting.add(task);
            } else {
                ready.add(task);
                readyModels.add(model);
            }
        }
        pending.update(stillWaiting);
        if (ctx.timeDomain() == TimeDomain.PROCESSING_TIME) {
            if (stillWaiting.isEmpty()) {
                // Before deciding: a subclass may register this timer again for its own use.
                ctx.timerService().deleteEventTimeTimer(Long.MAX_VALUE);
            } else {
                ctx.timerService().registerProcessingTimeTimer(timestamp + recheckMs);
            }
        }
        for (int i = 0; i < ready.size(); i++) {
            ModelEvent model = readyModels.get(i);
            decide(
                    ready.get(i),
                    model.version,
                    registry.get(model),
                    ctx.timerService(),
                    out,
                    ctx::output);
        }
    }

    @Override
    public void processElement2(ModelEvent model, Context ctx, Collector<VerdictEvent> out)
            throws Exception {
        if (!models.isNew(model.version)) {
            return;
        }
        try {
            registry.get(model);
        } catch (IllegalArgumentException e) {
            return; // ExpandEpsilons reports it; no task ever names an invalid model
        }
        models.accept(model, ctx.timerService().currentProcessingTime());
    }
}
