package org.robustflow.pipeline;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.Collector;

import org.robustflow.pipeline.functions.AccuracyAggregator;
import org.robustflow.pipeline.functions.BoundFunction;
import org.robustflow.pipeline.functions.ExpandEpsilons;
import org.robustflow.pipeline.functions.MilpFunction;
import org.robustflow.pipeline.functions.ModelFanout;
import org.robustflow.pipeline.functions.ModelStates;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.RunSignal;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.pipeline.records.VerificationTask;

/**
 * The verification topology, without sources, sinks or execute(), so tests can feed it from memory.
 *
 * <pre>
 * images --keyBy(run/image)--> expand-eps (+ models) --keyBy(run/image/eps)--> bounds + PGD
 *        (+ models) --> verdicts --keyBy(run)--> accuracy (+ run signals) --> results
 *                      \--(undecided, few unstable ReLUs)--> milp (+ models) --^
 * </pre>
 *
 * <p>The second keyBy spreads the (image, eps) tasks of one image over all bound instances. The
 * models reach every instance of the three operators as keyed copies ({@link ModelFanout}), not by
 * {@code broadcast()}, so that every edge of the job supports unaligned checkpoints.
 */
public final class VerificationJob {
    private VerificationJob() {}

    /** What the topology produces. */
    public record Outputs(
            DataStream<VerdictEvent> verdicts,
            DataStream<AccuracyEvent> results,
            DataStream<DeadLetterEvent> deadLetters) {}

    /** The topology without run announcements or rejections: runs complete by their images. */
    public static Outputs build(
            DataStream<ImageEvent> images, DataStream<ModelEvent> models, JobConfig cfg) {
        return build(
                images,
                models,
                images.flatMap(
                                (ImageEvent image, Collector<RunSignal> none) -> {},
                                TypeInformation.of(RunSignal.class))
                        .name("no-run-signals")
                        .uid("no-run-signals"),
                cfg);
    }

    /**
     * @param runSignals run announcements and rejected images, for the run tracker
     */
    public static Outputs build(
            DataStream<ImageEvent> images,
            DataStream<ModelEvent> models,
            DataStream<RunSignal> runSignals,
            JobConfig cfg) {
        // Every instance of the three operators below gets every model, over keyed edges (see
        // ModelFanout): a broadcast input would make Flink checkpoint them aligned.
        KeyedStream<ModelEvent, String> modelCopies =
                models.flatMap(
                                new ModelFanout(cfg.modelKeyGroups()),
                                TypeInformation.of(ModelEvent.class))
                        .name("model-copies")
                        .uid("model-copies")
                        .setParallelism(1)
                        .keyBy(ModelFanout::routingKey, Types.STRING);

        SingleOutputStreamOperator<VerificationTask> tasks =
                images.keyBy(image -> image.runId + "/" + image.imageId, Types.STRING)
                        .connect(modelCopies)
                        .process(
                                new ExpandEpsilons(
                                        cfg.eps(), cfg.inputSize(), cfg.modelRecheckMs()))
                        .name("expand-eps")
                        .uid("expand-eps")
                        .setMaxParallelism(cfg.modelKeyGroups());

        SingleOutputStreamOperator<VerdictEvent> decided =
                tasks.keyBy(VerificationTask::key, Types.STRING)
                        .connect(modelCopies)
                        .process(
                                new BoundFunction(
                                        cfg.method(),
                                        cfg.attack(),
                                        cfg.milpMaxUnstable(),
                                        cfg.boundBatching(),
                                        cfg.modelRecheckMs(),
                                        cfg.modelRetentionMs()))
                        .name("bounds-" + cfg.method() + (cfg.attack() == null ? "" : "-pgd"))
                        .uid("bounds")
                        .setMaxParallelism(cfg.modelKeyGroups());
        if (cfg.boundParallelism() > 0) {
            decided.setParallelism(cfg.boundParallelism());
        }

        DataStream<VerdictEvent> verdicts = decided;
        if (cfg.milpMaxUnstable() >= 0) {
            SingleOutputStreamOperator<VerdictEvent> exact =
                    decided.getSideOutput(BoundFunction.TO_MILP)
                            .keyBy(VerificationTask::key, Types.STRING)
                            .connect(modelCopies)
                            .process(
                                    new MilpFunction(
                                            cfg.exactVerifier(),
                                            cfg.milpTimeLimitMs(),
                                            cfg.milpThreads(),
                                            cfg.modelRecheckMs(),
                                            cfg.modelRetentionMs()))
                            .name("exact-" + cfg.exactMethod())
                            .uid("milp")
                            .setMaxParallelism(cfg.modelKeyGroups())
                            .setParallelism(cfg.milpParallelism());
            verdicts = decided.union(exact);
        }

        SingleOutputStreamOperator<AccuracyEvent> results =
                verdicts.connect(runSignals)
                        .keyBy(v -> v.runId, s -> s.runId, Types.STRING)
                        .process(
                                new AccuracyAggregator(
                                        cfg.eps().length,
                                        cfg.resultIntervalMs(),
                                        cfg.runStallMs(),
                                        cfg.runRetentionMs()))
                        .name("accuracy")
                        .uid("accuracy");

        return new Outputs(verdicts, results, tasks.getSideOutput(ModelStates.DEAD_LETTERS));
    }
}
