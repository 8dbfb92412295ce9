package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.ReadOnlyBroadcastState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.TimeDomain;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
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
 * <p>Broadcast and task channels are not ordered against each other, so a task may arrive before
 * its model reaches this instance: it then waits in keyed state, and a processing-time timer of its
 * key looks again every {@code recheckMs}. A model's arrival releases nothing by itself: each
 * waiting task is decided in its own timer callback, so a backlog never holds the task thread (and
 * the checkpoint barriers behind it) for one long call.
 */
abstract class TaskFunction
        extends KeyedBroadcastProcessFunction<String, VerificationTask, ModelEvent, VerdictEvent> {
    private static final long serialVersionUID = 1L;

    private final ListStateDescriptor<VerificationTask> pendingDescriptor;
    private final long recheckMs;
    private transient ListState<VerificationTask> pending;
    private transient ModelRegistry registry;

    TaskFunction(String pendingStateName, long recheckMs) {
        this.pendingDescriptor =
                new ListStateDescriptor<>(
                        pendingStateName, TypeInformation.of(VerificationTask.class));
        this.recheckMs = recheckMs;
    }

    ModelRegistry registry() {
        return registry;
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
    public void open(OpenContext openContext) throws Exception {
        pending = getRuntimeContext().getListState(pendingDescriptor);
        registry = new ModelRegistry();
    }

    @Override
    public void processElement(
            VerificationTask task, ReadOnlyContext ctx, Collector<VerdictEvent> out)
            throws Exception {
        ModelEvent model = ctx.getBroadcastState(ModelStates.MODELS).get(task.modelVersion);
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
        ReadOnlyBroadcastState<String, ModelEvent> models =
                ctx.getBroadcastState(ModelStates.MODELS);
        List<VerificationTask> ready = new ArrayList<>();
        List<VerificationTask> stillWaiting = new ArrayList<>();
        for (VerificationTask task : waiting) {
            (models.contains(task.modelVersion) ? ready : stillWaiting).add(task);
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
        for (VerificationTask task : ready) {
            ModelEvent model = models.get(task.modelVersion);
            decide(task, model.version, registry.get(model), ctx.timerService(), out, ctx::output);
        }
    }

    @Override
    public void processBroadcastElement(ModelEvent model, Context ctx, Collector<VerdictEvent> out)
            throws Exception {
        try {
            registry.get(model);
        } catch (IllegalArgumentException e) {
            return; // ExpandEpsilons reports it; no task ever names an invalid model
        }
        ctx.getBroadcastState(ModelStates.MODELS).put(model.version, model);
    }
}
