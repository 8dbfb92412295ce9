package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.streaming.api.functions.co.KeyedBroadcastProcessFunction;
import org.apache.flink.util.Collector;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Decides one (image, eps) task under the task's model version: sound bounds (box or crown), then a PGD
 * attack on what the bounds leave undecided.
 *
 * <p>The task names its model version; broadcast and task channels are not ordered against each other,
 * so a task may arrive before its model reaches this instance: it then waits in keyed state until the
 * model does. Verdicts per second are a dashboard metric.
 */
@VisibleForTesting
public class BoundFunction extends KeyedBroadcastProcessFunction<String, VerificationTask, ModelEvent, VerdictEvent> {
    private static final long serialVersionUID = 1L;

    static final ListStateDescriptor<VerificationTask> PENDING =
            new ListStateDescriptor<>("tasks-waiting-for-model", TypeInformation.of(VerificationTask.class));

    private transient ListState<VerificationTask> pending;
    private final String method;
    private final Pgd.Settings attack;
    private transient Map<String, Certifier> certifiers;
    private transient Map<String, Pgd> attacks;
    private transient ModelRegistry registry;
    private transient Meter verdictsPerSecond;
    private transient Counter certified;

    /**
     * @param method bound method, see {@link Certifier#of}
     * @param attack PGD settings for pairs the bounds leave undecided; null for bounds only
     */
    public BoundFunction(String method, Pgd.Settings attack) {
        this.method = method;
        this.attack = attack;
    }

    @Override
    public void open(OpenContext openContext) {
        pending = getRuntimeContext().getListState(PENDING);
        certifiers = new HashMap<>();
        attacks = new HashMap<>();
        registry = new ModelRegistry();
        verdictsPerSecond = getRuntimeContext().getMetricGroup().meter("verdictsPerSecond", new MeterView(10));
        certified = getRuntimeContext().getMetricGroup().counter("certified");
    }

    @Override
    public void processElement(VerificationTask task, ReadOnlyContext ctx, Collector<VerdictEvent> out) throws Exception {
        ModelEvent model = ctx.getBroadcastState(ModelStates.MODELS).get(task.modelVersion);
        if (model == null) {
            pending.add(task);
            return;
        }
        out.collect(decide(task, model));
    }

    @Override
    public void processBroadcastElement(ModelEvent model, Context ctx, Collector<VerdictEvent> out) throws Exception {
        try {
            registry.get(model);
        } catch (IllegalArgumentException e) {
            return; // ExpandEpsilons reports it; no task ever names an invalid model
        }
        ctx.getBroadcastState(ModelStates.MODELS).put(model.version, model);
        ctx.applyToKeyedState(PENDING, (key, state) -> {
            List<VerificationTask> stillWaiting = new ArrayList<>();
            for (VerificationTask task : state.get()) {
                if (task.modelVersion.equals(model.version)) {
                    out.collect(decide(task, model));
                } else {
                    stillWaiting.add(task);
                }
            }
            state.update(stillWaiting);
        });
    }

    private VerdictEvent decide(VerificationTask task, ModelEvent model) {
        long start = System.nanoTime();
        Certifier certifier = certifiers.computeIfAbsent(model.version, v -> Certifier.of(method, registry.get(model)));
        double[] x = task.scaledPixels();
        Certifier.Result r = certifier.certify(x, new int[] {task.label}, new int[] {0}, new double[] {task.eps})[0];
        long boundMicros = (System.nanoTime() - start) / 1000;
        Pgd pgd = attack == null ? null : attacks.computeIfAbsent(model.version, v -> new Pgd(registry.get(model), attack));
        Decision decision = Sweep.decide(r, certifier.method(), boundMicros, pgd, x, task.label, task.eps);
        verdictsPerSecond.markEvent();
        if (decision.verdict() == Verdict.CERTIFIED) {
            certified.inc();
        }
        return new VerdictEvent(task, decision);
    }
}
