package org.robustflow.pipeline.kafka;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.AsyncDataStream;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.OutputTag;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.robustflow.avro.DeadLetter;
import org.robustflow.avro.PropertyResult;
import org.robustflow.pipeline.JobConfig;
import org.robustflow.pipeline.functions.PropertyCheck;
import org.robustflow.pipeline.functions.PropertyModelJoin;
import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.PropertyOutcome;
import org.robustflow.pipeline.records.PropertyTask;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * VNN-LIB property suites through the job: properties topic in, one VNN-COMP answer per property to
 * the property results topic (EXACTLY_ONCE), beside the image pipeline of {@link
 * KafkaVerificationJob} and on the same models topic.
 *
 * <pre>
 * properties --> validate --keyBy(model version)--> join with the broadcast models --> decide
 *   (PropertyVerifier on solver threads, async) --> property results (key suite/property)
 * models ------> validate --broadcast--------------^
 * </pre>
 *
 * <p>A property names the model version it is about; it waits in state until that model is on the
 * models topic. {@code suite publish} and {@code suite results} are its command-line ends.
 *
 * <pre>{@code
 * PropertyJob.createTopics(topics);
 * PropertyJob.define(env, topics, cfg, false);
 * }</pre>
 */
public final class PropertyJob {
    public static final String PROPERTIES = "robustflow.properties";
    public static final String PROPERTY_RESULTS = "robustflow.property-results";

    /**
     * Properties in flight per solver thread: each carries its model's snapshot (MBs) into the
     * checkpoint, so only a few; the rest wait upstream (backpressure) or in the join's state.
     */
    static final int IN_FLIGHT_PER_THREAD = 2;

    /** Longest a property may take before the job answers timeout for it (a safety net). */
    static final long ASYNC_TIMEOUT_MS = 3_600_000;

    private PropertyJob() {}

    /** The properties topic of {@code topics} (same suffix). */
    public static String properties(Topics topics) {
        return PROPERTIES + suffix(topics);
    }

    /** The property results topic of {@code topics} (same suffix); compacted. */
    public static String results(Topics topics) {
        return PROPERTY_RESULTS + suffix(topics);
    }

    private static String suffix(Topics topics) {
        String images = topics.images();
        return images.startsWith(Topics.IMAGES) ? images.substring(Topics.IMAGES.length()) : "";
    }

    /** Creates the two topics if absent. */
    public static void createTopics(Topics topics) throws InterruptedException, ExecutionException {
        List<NewTopic> wanted = new ArrayList<>();
        wanted.add(new NewTopic(properties(topics), 1, (short) 1));
        wanted.add(
                new NewTopic(results(topics), 1, (short) 1)
                        .configs(
                                Map.of(
                                        TopicConfig.CLEANUP_POLICY_CONFIG,
                                        TopicConfig.CLEANUP_POLICY_COMPACT)));
        try (Admin admin = Admin.create(topics.clientProperties())) {
            var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing =
                    wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw e;
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ExecutionException(
                    "Kafka at " + topics.bootstrapServers() + " did not answer within 30 s", e);
        }
    }

    /**
     * Adds the property pipeline to {@code env}.
     *
     * @param bounded stop at the offsets present at start (tests); otherwise follow the topics
     */
    public static void define(
            StreamExecutionEnvironment env, Topics topics, JobConfig cfg, boolean bounded) {
        OutputTag<DeadLetterEvent> badInput =
                new OutputTag<>("bad-property", TypeInformation.of(DeadLetterEvent.class));
        SingleOutputStreamOperator<PropertyTask> properties =
                KafkaVerificationJob.valid(
                        env.fromSource(
                                        KafkaVerificationJob.source(
                                                topics,
                                                properties(topics),
                                                new PropertyDeserializer(),
                                                OffsetsInitializer.committedOffsets(
                                                        org.apache.kafka.clients.consumer
                                                                .OffsetResetStrategy.EARLIEST),
                                                bounded),
                                        WatermarkStrategy.noWatermarks(),
                                        "properties")
                                .uid("properties-source")
                                .setParallelism(1),
                        badInput,
                        TypeInformation.of(PropertyTask.class),
                        "properties");
        // Its own reader of the models table (from the earliest offset, like the image side's).
        DataStream<ModelEvent> models =
                KafkaVerificationJob.valid(
                        env.fromSource(
                                        KafkaVerificationJob.source(
                                                topics,
                                                topics.models(),
                                                new ModelDeserializer(),
                                                OffsetsInitializer.earliest(),
                                                bounded),
                                        WatermarkStrategy.noWatermarks(),
                                        "property-models")
                                .uid("property-models-source")
                                .setParallelism(1),
                        new OutputTag<>(
                                "bad-property-model", TypeInformation.of(DeadLetterEvent.class)),
                        TypeInformation.of(ModelEvent.class),
                        "property-models");
        DataStream<PropertyTask> joined =
                properties
                        .keyBy(t -> t.modelVersion)
                        .connect(models.broadcast(PropertyModelJoin.MODELS))
                        .process(
                                new PropertyModelJoin(cfg.propertyModelWaitMs()),
                                TypeInformation.of(PropertyTask.class))
                        .name("property-models-join")
                        .uid("property-models-join");
        DataStream<PropertyOutcome> outcomes =
                AsyncDataStream.unorderedWait(
                                joined,
                                new PropertyCheck(cfg.milpThreads()),
                                ASYNC_TIMEOUT_MS,
                                TimeUnit.MILLISECONDS,
                                IN_FLIGHT_PER_THREAD * cfg.milpThreads())
                        .returns(TypeInformation.of(PropertyOutcome.class))
                        .name("decide-properties")
                        .uid("decide-properties");
        outcomes.sinkTo(
                        KafkaVerificationJob.sink(
                                topics,
                                cfg,
                                "property-results",
                                new AvroRecordSerializer<PropertyOutcome, PropertyResult>(
                                        results(topics),
                                        PropertyResult.class,
                                        PropertyJob::record,
                                        PropertyOutcome::key)))
                .name("property-results-sink")
                .uid("property-results-sink");
        properties
                .getSideOutput(badInput)
                .sinkTo(
                        KafkaVerificationJob.sink(
                                topics,
                                cfg,
                                "property-dead-letters",
                                new AvroRecordSerializer<DeadLetterEvent, DeadLetter>(
                                        topics.deadLetters(),
                                        DeadLetter.class,
                                        Records::deadLetter,
                                        d -> d.source + "/" + d.partition + "/" + d.offset)))
                .name("property-dead-letters-sink")
                .uid("property-dead-letters-sink");
    }

    static PropertyResult record(PropertyOutcome o) {
        return PropertyResult.newBuilder()
                .setSuiteId(o.suiteId)
                .setPropertyId(o.propertyId)
                .setModelVersion(o.modelVersion)
                .setAnswer(o.result)
                .setMethod(o.method == null ? "" : o.method)
                .setSeconds(o.seconds)
                .setCounterexample(boxed(o.counterexample))
                .setOutputs(boxed(o.outputs))
                .setExpectedTotal(o.expectedTotal)
                .build();
    }

    private static List<Double> boxed(double[] values) {
        List<Double> out = new ArrayList<>();
        if (values != null) {
            for (double v : values) {
                out.add(v);
            }
        }
        return out;
    }
}
