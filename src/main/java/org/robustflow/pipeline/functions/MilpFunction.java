package org.robustflow.pipeline.functions;

import org.apache.flink.annotation.VisibleForTesting;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.util.Collector;

import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.InputBox;
import org.robustflow.milp.MilpResult;
import org.robustflow.milp.MilpVerifier;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;
import org.robustflow.verify.Decision;

import java.util.HashMap;
import java.util.Map;

/**
 * Decides the small pairs the bounds and the attack left open with an exact MILP query, under a
 * time limit: CERTIFIED, FALSIFIED (with a re-checked witness) or TIMEOUT. Runs as its own
 * operator, with its own parallelism, so a slow query holds back only MILP work.
 */
@VisibleForTesting
public class MilpFunction extends TaskFunction {
    private static final long serialVersionUID = 1L;

    private final MilpVerifier verifier;
    private final long timeLimitMs;
    private transient Map<String, CrownPropagator> propagators;
    private transient Counter certified;
    private transient Counter falsified;
    private transient Counter timedOut;

    public MilpFunction(MilpVerifier verifier, long timeLimitMs) {
        super("milp-tasks-waiting-for-model");
        this.verifier = verifier;
        this.timeLimitMs = timeLimitMs;
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        super.open(openContext);
        propagators = new HashMap<>();
        certified = getRuntimeContext().getMetricGroup().counter("milpCertified");
        falsified = getRuntimeContext().getMetricGroup().counter("milpFalsified");
        timedOut = getRuntimeContext().getMetricGroup().counter("milpTimeouts");
    }

    @Override
    void decide(
            VerificationTask task,
            String modelVersion,
            Network mlp,
            Collector<VerdictEvent> out,
            SideOutput side) {
        double[] x = task.scaledPixels();
        double[][] box = InputBox.of(x, task.eps);
        CrownPropagator.RowBounds bounds =
                propagators
                        .computeIfAbsent(modelVersion, v -> new CrownPropagator(mlp))
                        .bound(box[0], box[1], task.label);
        MilpResult r = verifier.verify(mlp, x, task.label, task.eps, bounds, timeLimitMs);
        switch (r.verdict()) {
            case CERTIFIED -> certified.inc();
            case FALSIFIED -> falsified.inc();
            default -> timedOut.inc();
        }
        double margin = java.util.Arrays.stream(bounds.marginLower()).min().orElse(Double.NaN);
        out.collect(
                new VerdictEvent(
                        task,
                        new Decision(
                                r.verdict(),
                                "milp",
                                task.label,
                                margin,
                                bounds.unstableRelus(),
                                r.micros(),
                                r.witness(),
                                r.witnessClass())));
    }
}
