package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.robustflow.avro.Counterexample;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.VerdictRecord;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.Verdict;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.pipeline.VerificationJob;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.RunSignal;
import org.robustflow.pipeline.records.VerdictEvent;

/**
 * The verification job on Kafka: reads images and models, runs {@link VerificationJob}, and writes
 * verdicts, results, counterexamples and dead letters, all EXACTLY_ONCE (Kafka transactions
 * committed on checkpoints; consumers read with isolation.level=read_committed).
 *
 * <pre>{@code
 * KafkaVerificationJob.define(env, Topics.defaults("127.0.0.1:9092"), JobConfig.builder().build(), false);
 * env.execute("robustflow");
 * }</pre>
 */
public final class KafkaVerificationJob {
    public static final String JOB_NAME = "robustflow";
    public static final String CONSUMER_GROUP = "robustflow-job";

    public static final long CHECKPOINT_INTERVAL_MS = 2_000;

    private KafkaVerificationJob() {}

    /**
     * Adds the job to {@code env}.
     *
     * @param bounded stop at the offsets present at start (tests); otherwise follow the topics
     *     forever
     */
    public static void define(
            StreamExecutionEnvironment env, Topics topics, JobConfig cfg, boolean bounded) {
        env.enableCheckpointing(CHECKPOINT_INTERVAL_MS);
        // Barriers overtake queued records: a backlog in front of the slow MILP operator must not
        // hold
        // back every checkpoint, and with it the transactions that make results visible.
        env.getCheckpointConfig().enableUnalignedCheckpoints();
        OutputTag<DeadLetterEvent> badInput =
                new OutputTag<>("bad-input", TypeInformation.of(DeadLetterEvent.class));

        DataStream<ImageEvent> images =
                valid(
                        env.fromSource(
                                        source(
                                                topics,
                                                topics.images(),
                                                new ImageDeserializer(cfg.inputSize()),
                                                resumeFromCommitted(),
                                                bounded),
                                        WatermarkStrategy.noWatermarks(),
                                        "images")
                                .uid("images-source"),
                        badInput,
                        TypeInformation.of(ImageEvent.class),
                        "images");
        // The models topic is a table (compacted): every start reads all of it, from the earliest
        // offset, so a job redeployed without a savepoint knows the current models by
        // construction.
        SingleOutputStreamOperator<ModelEvent> models =
                valid(
                        env.fromSource(
                                        source(
                                                topics,
                                                topics.models(),
                                                new ModelDeserializer(),
                                                OffsetsInitializer.earliest(),
                                                bounded),
                                        WatermarkStrategy.noWatermarks(),
                                        "models")
                                .uid("models-source")
                                .setParallelism(1),
                        badInput,
                        TypeInformation.of(ModelEvent.class),
                        "models");
        // One instance end to end, so every operator gets the models in the order of the topic.
        models.setParallelism(1);
        SingleOutputStreamOperator<RunSignal> announcements =
                valid(
                        env.fromSource(
                                        source(
                                                topics,
                                                topics.runs(),
                                                new RunDeserializer(),
                                                resumeFromCommitted(),
                                                bounded),
                                        WatermarkStrategy.noWatermarks(),
                                        "runs")
                                .uid("runs-source")
                                .setParallelism(1),
                        badInput,
                        TypeInformation.of(RunSignal.class),
                        "runs");
        DataStream<DeadLetterEvent> rejectedImages =
                ((SingleOutputStreamOperator<ImageEvent>) images).getSideOutput(badInput);
        // A rejected image of a known run still counts for the run: it is done, as rejected.
        DataStream<RunSignal> runSignals =
                announcements.union(
                        rejectedImages
                                .filter(d -> d.runId != null)
                                .name("rejected-images")
                                .uid("rejected-images")
                                .map(
                                        d ->
                                                RunSignal.rejected(
                                                        d.runId,
                                                        d.imageId,
                                                        d.expectedTotal,
                                                        d.reason),
                                        TypeInformation.of(RunSignal.class))
                                .name("rejections")
                                .uid("rejections"));

        VerificationJob.Outputs out = VerificationJob.build(images, models, runSignals, cfg);

        out.verdicts()
                .sinkTo(
                        sink(
                                topics,
                                cfg,
                                "verdicts",
                                new AvroRecordSerializer<VerdictEvent, VerdictRecord>(
                                        topics.verdicts(),
                                        VerdictRecord.class,
                                        Records::verdict,
                                        v -> v.runId + "/" + v.imageId)))
                .name("verdicts-sink")
                .uid("verdicts-sink");
        out.results()
                .sinkTo(
                        sink(
                                topics,
                                cfg,
                                "results",
                                new AvroRecordSerializer<AccuracyEvent, EpsilonAccuracy>(
                                        topics.results(),
                                        EpsilonAccuracy.class,
                                        Records::accuracy,
                                        AccuracyEvent::key)))
                .name("results-sink")
                .uid("results-sink");
        out.verdicts()
                .filter(v -> v.verdict == Verdict.FALSIFIED && v.witness != null)
                .name("counterexamples")
                .uid("counterexamples")
                .sinkTo(
                        sink(
                                topics,
                                cfg,
                                "counterexamples",
                                new AvroRecordSerializer<VerdictEvent, Counterexample>(
                                        topics.counterexamples(),
                                        Counterexample.class,
                                        Records::counterexample,
                                        v ->
                                                v.runId
                                                        + "/"
                                                        + v.imageId
                                                        + "/"
                                                        + EpsilonGrid.key(v.eps))))
                .name("counterexamples-sink")
                .uid("counterexamples-sink");
        rejectedImages
                .union(
                        models.getSideOutput(badInput),
                        announcements.getSideOutput(badInput),
                        out.deadLetters())
                .sinkTo(
                        sink(
                                topics,
                                cfg,
                                "dead-letters",
                                new AvroRecordSerializer<DeadLetterEvent, DeadLetter>(
                                        topics.deadLetters(),
                                        DeadLetter.class,
                                        Records::deadLetter,
                                        d -> d.source + "/" + d.partition + "/" + d.offset)))
                .name("dead-letters-sink")
                .uid("dead-letters-sink");
    }

    /**
     * Images and run announcements are events: a job redeployed without a savepoint resumes where
     * the last one committed instead of verifying every run again.
     */
    private static OffsetsInitializer resumeFromCommitted() {
        return OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
    }

    static <T> KafkaSource<Either<DeadLetterEvent, T>> source(
            Topics topics,
            String topic,
            KafkaRecordDeserializationSchema<Either<DeadLetterEvent, T>> deserializer,
            OffsetsInitializer start,
            boolean bounded) {
        var builder =
                KafkaSource.<Either<DeadLetterEvent, T>>builder()
                        .setProperties(topics.clientProperties())
                        .setBootstrapServers(topics.bootstrapServers())
                        .setTopics(topic)
                        .setGroupId(CONSUMER_GROUP)
                        .setStartingOffsets(start)
                        .setDeserializer(deserializer)
                        // Producers may write transactionally: never read what they abort.
                        .setProperty("isolation.level", "read_committed");
        if (bounded) {
            builder.setBounded(OffsetsInitializer.latest());
        }
        return builder.build();
    }

    /**
     * An exactly-once sink. Its transactional ids come from a pool, and at every (re)start it lists
     * the open transactions on its topic and aborts those of its prefix that no checkpoint holds.
     * The connector's default instead names a transaction per checkpoint and, on restart, aborts
     * ids one after another until the first unused one: a checkpoint declined before it reached the
     * sink leaves a gap in those ids, and a transaction after the gap stayed open until its
     * timeout, hiding every later result from read_committed readers.
     *
     * <p>The transaction timeout is set explicitly: the sink's default of 1 h is refused by brokers
     * (transaction.max.timeout.ms is 15 min).
     */
    static <T> KafkaSink<T> sink(
            Topics topics,
            JobConfig cfg,
            String name,
            org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema<T> serializer) {
        return KafkaSink.<T>builder()
                .setKafkaProducerConfig(topics.clientProperties())
                .setBootstrapServers(topics.bootstrapServers())
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionNamingStrategy(TransactionNamingStrategy.POOLING)
                .setTransactionalIdPrefix("robustflow-" + name + "-" + topics.results())
                .setProperty("transaction.timeout.ms", String.valueOf(cfg.transactionTimeoutMs()))
                .build();
    }

    /** Good records pass on; dead letters go to the side output. */
    static <T> SingleOutputStreamOperator<T> valid(
            DataStream<Either<DeadLetterEvent, T>> decoded,
            OutputTag<DeadLetterEvent> badInput,
            TypeInformation<T> type,
            String name) {
        return decoded.process(
                        new ProcessFunction<Either<DeadLetterEvent, T>, T>() {
                            @Override
                            public void processElement(
                                    Either<DeadLetterEvent, T> value,
                                    Context ctx,
                                    Collector<T> out) {
                                if (value.isRight()) {
                                    out.collect(value.right());
                                } else {
                                    ctx.output(badInput, value.left());
                                }
                            }
                        },
                        type)
                .name("validate-" + name)
                .uid("validate-" + name);
    }
}
