package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.BroadcastState;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;

import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerificationTask;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Fans each image out to one {@link VerificationTask} per eps under the newest model version.
 *
 * <p>Images that arrive before any model wait in keyed state and are released when the first valid
 * model is broadcast; none is dropped. A model whose shape does not fit the images goes to the
 * dead-letter output (once, from subtask 0, since every instance receives the broadcast) and is
 * ignored.
 */
@VisibleForTesting
public class ExpandEpsilons
        extends KeyedBroadcastProcessFunction<String, ImageEvent, ModelEvent, VerificationTask> {
    private static final long serialVersionUID = 1L;

    static final ListStateDescriptor<ImageEvent> PENDING =
            new ListStateDescriptor<>(
                    "images-waiting-for-model", TypeInformation.of(ImageEvent.class));

    private final double[] eps;
    private final int inputSize;
    private transient ListState<ImageEvent> pending;
    private transient AtomicLong waiting;
    private transient Counter tasks;

    public ExpandEpsilons(double[] eps, int inputSize) {
        this.eps = eps.clone();
        this.inputSize = inputSize;
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getListState(PENDING);
        waiting = new AtomicLong();
        getRuntimeContext().getMetricGroup().gauge("recordsWaitingForModel", waiting::get);
        tasks = getRuntimeContext().getMetricGroup().counter("tasksEmitted");
    }

    @Override
    public void processElement(
            ImageEvent image, ReadOnlyContext ctx, Collector<VerificationTask> out)
            throws Exception {
        ModelEvent latest = ctx.getBroadcastState(ModelStates.MODELS).get(ModelStates.LATEST);
        if (latest == null) {
            pending.add(image);
            waiting.incrementAndGet();
            return;
        }
        expand(image, latest.version, out);
    }

    @Override
    public void processBroadcastElement(
            ModelEvent model, Context ctx, Collector<VerificationTask> out) throws Exception {
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
        BroadcastState<String, ModelEvent> models = ctx.getBroadcastState(ModelStates.MODELS);
        boolean first = models.get(ModelStates.LATEST) == null;
        models.put(model.version, model);
        models.put(ModelStates.LATEST, model);
        if (first) {
            ctx.applyToKeyedState(
                    PENDING,
                    (key, state) -> {
                        for (ImageEvent image : state.get()) {
                            expand(image, model.version, out);
                            waiting.decrementAndGet();
                        }
                        state.clear();
                    });
        }
    }

    private void expand(ImageEvent image, String modelVersion, Collector<VerificationTask> out) {
        for (double e : eps) {
            out.collect(new VerificationTask(image, e, modelVersion));
        }
        tasks.inc(eps.length);
    }
}
