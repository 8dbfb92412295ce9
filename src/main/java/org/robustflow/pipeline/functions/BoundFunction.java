package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Meter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.streaming.api.TimerService;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

/**
 * Decides one (image, eps) task under the task's model version: sound bounds (box or crown), then a
 * PGD attack on what the bounds leave undecided. Pairs still undecided with few enough unstable
 * ReLUs go on to the MILP operator through {@link #TO_MILP} instead of becoming verdicts here.
 */
@VisibleForTesting
public class BoundFunction extends TaskFunction {
    private static final long serialVersionUID = 1L;

    public static final OutputTag<VerificationTask> TO_MILP =
            new OutputTag<>("to-milp", TypeInformation.of(VerificationTask.class));

    private final String method;
    private final Pgd.Settings attack;
    private final int milpMaxUnstable;
    private transient VersionCache<Certifier> certifiers;
    private transient VersionCache<Cascade> attacks;
    private transient Meter verdictsPerSecond;
    private transient Counter certified;
    private transient Counter routedToMilp;

    /**
     * @param method bound method, see {@link Certifier#of}
     * @param attack PGD settings for pairs the bounds leave undecided; null for bounds only
     * @param milpMaxUnstable undecided pairs with at most this many unstable ReLUs go to MILP; -1
     *     for none
     * @param recheckMs how often tasks waiting for their model look again
     * @param modelRetentionMs keep a superseded model version this long after a task last named it
     */
    public BoundFunction(
            String method,
            Pgd.Settings attack,
            int milpMaxUnstable,
            long recheckMs,
            long modelRetentionMs) {
        super("tasks-waiting-for-model", recheckMs, modelRetentionMs);
        this.method = method;
        this.attack = attack;
        this.milpMaxUnstable = milpMaxUnstable;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        certifiers = new VersionCache<>();
        attacks = new VersionCache<>();
        verdictsPerSecond =
                getRuntimeContext().getMetricGroup().meter("verdictsPerSecond", new MeterView(10));
        certified = getRuntimeContext().getMetricGroup().counter("certified");
        routedToMilp = getRuntimeContext().getMetricGroup().counter("routedToMilp");
    }

    @Override
    void decide(
            VerificationTask task,
            String modelVersion,
            Network mlp,
            TimerService timers,
            Collector<VerdictEvent> out,
            SideOutput side) {
        long start = System.nanoTime();
        Certifier certifier = certifiers.get(modelVersion, v -> Certifier.of(method, mlp));
        double[] x = task.scaledPixels();
        Certifier.Result r =
                certifier
                        .certify(x, new int[] {task.label}, new int[] {0}, new double[] {task.eps})[
                        0];
        long boundMicros = (System.nanoTime() - start) / 1000;
        Cascade cascade =
                attack == null
                        ? null
                        : attacks.get(
                                modelVersion,
                                v -> new Cascade(mlp, Cascade.Settings.incomplete(attack)));
        Decision decision =
                Sweep.decide(r, certifier.method(), boundMicros, cascade, x, task.label, task.eps);
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
