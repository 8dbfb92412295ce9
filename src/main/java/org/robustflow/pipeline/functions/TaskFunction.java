package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
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
 * its model reaches this instance: it then waits in keyed state until the model does.
 */
abstract class TaskFunction
        extends KeyedBroadcastProcessFunction<String, VerificationTask, ModelEvent, VerdictEvent> {
    private static final long serialVersionUID = 1L;

    private final ListStateDescriptor<VerificationTask> pendingDescriptor;
    private transient ListState<VerificationTask> pending;
    private transient ModelRegistry registry;

    TaskFunction(String pendingStateName) {
        this.pendingDescriptor =
                new ListStateDescriptor<>(
                        pendingStateName, TypeInformation.of(VerificationTask.class));
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
            Collector<VerdictEvent> out,
            SideOutput side);

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
            return;
        }
        decide(task, model.version, registry.get(model), out, ctx::output);
    }

    @Override
    public void processBroadcastElement(ModelEvent model, Context ctx, Collector<VerdictEvent> out)
            throws Exception {
        Network mlp;
        try {
            mlp = registry.get(model);
        } catch (IllegalArgumentException e) {
            return; // ExpandEpsilons reports it; no task ever names an invalid model
        }
        ctx.getBroadcastState(ModelStates.MODELS).put(model.version, model);
        ctx.applyToKeyedState(
                pendingDescriptor,
                (key, state) -> {
                    List<VerificationTask> stillWaiting = new ArrayList<>();
                    for (VerificationTask task : state.get()) {
                        if (task.modelVersion.equals(model.version)) {
                            decide(task, model.version, mlp, out, ctx::output);
                        } else {
                            stillWaiting.add(task);
                        }
                    }
                    state.update(stillWaiting);
                });
    }
}
