package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.BasicTypeInfo;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.PropertyTask;

import java.util.ArrayList;
import java.util.List;

/**
 * Joins properties (keyed by the model version they name) with the broadcast models: a property
 * whose model is known leaves with the model attached; one that arrives first waits in keyed state
 * until its model does, or at most {@code modelWaitMs}: then it leaves answered {@code error}
 * ("model ... did not arrive"), so a suite naming a model that was never published still completes.
 */
public final class PropertyModelJoin
        extends KeyedBroadcastProcessFunction<String, PropertyTask, ModelEvent, PropertyTask> {
    private static final long serialVersionUID = 1L;

    /** Model snapshots by version. */
    public static final MapStateDescriptor<String, byte[]> MODELS =
            new MapStateDescriptor<>(
                    "property-models",
                    BasicTypeInfo.STRING_TYPE_INFO,
                    PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO);

    static final ListStateDescriptor<PropertyTask> WAITING =
            new ListStateDescriptor<>(
                    "properties-waiting-for-model", TypeInformation.of(PropertyTask.class));

    private final long modelWaitMs;
    private transient ListState<PropertyTask> waiting;

    /**
     * @param modelWaitMs how long a property waits for its model before it is answered error
     */
    public PropertyModelJoin(long modelWaitMs) {
        this.modelWaitMs = modelWaitMs;
    }

    @Override
    public void open(org.apache.flink.api.common.functions.OpenContext context) {
        waiting = getRuntimeContext().getListState(WAITING);
    }

    @Override
    public void processElement(PropertyTask task, ReadOnlyContext ctx, Collector<PropertyTask> out)
            throws Exception {
        byte[] snapshot = ctx.getBroadcastState(MODELS).get(task.modelVersion);
        if (snapshot != null) {
            out.collect(task.withSnapshot(snapshot));
        } else {
            long now = ctx.timerService().currentProcessingTime();
            task.waitingSince = now;
            waiting.add(task);
            ctx.timerService().registerProcessingTimeTimer(now + modelWaitMs);
        }
    }

    @Override
    public void onTimer(long timestamp, OnTimerContext ctx, Collector<PropertyTask> out)
            throws Exception {
        List<PropertyTask> still = new ArrayList<>();
        for (PropertyTask task : waiting.get()) {
            if (task.waitingSince + modelWaitMs <= timestamp) {
                out.collect(
                        task.withError(
                                "model "
                                        + task.modelVersion
                                        + " did not arrive within "
                                        + modelWaitMs / 1000
                                        + " s; publish it and submit the property again"));
            } else {
                still.add(task);
            }
        }
        waiting.update(still);
    }

    @Override
    public void processBroadcastElement(ModelEvent model, Context ctx, Collector<PropertyTask> out)
            throws Exception {
        ctx.getBroadcastState(MODELS).put(model.version, model.snapshot);
        ctx.applyToKeyedState(
                WAITING,
                (version, state) -> {
                    if (version.equals(model.version)) {
                        List<PropertyTask> ready = new ArrayList<>();
                        state.get().forEach(ready::add);
                        state.clear();
                        for (PropertyTask t : ready) {
                            out.collect(t.withSnapshot(model.snapshot));
                        }
                    }
                });
    }
}
