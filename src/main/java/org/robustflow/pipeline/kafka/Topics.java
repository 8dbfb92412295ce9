package org.robustflow.pipeline.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * The job's topics: names (defaults as constants, overridable), partitions and cleanup policies.
 *
 * <p>runs carries run announcements (id and image count), written by {@code produce} before the
 * images. models and results are compacted: a consumer starting late reads the newest model and the
 * newest accuracy per (run, model, eps) key.
 */
public record Topics(
        String images,
        String models,
        String verdicts,
        String results,
        String counterexamples,
        String deadLetters,
        String runs,
        String bootstrapServers,
        Map<String, String> clientOverrides)
        implements Serializable {
    public static final String IMAGES = "robustflow.images";
    public static final String MODELS = "robustflow.models";
    public static final String VERDICTS = "robustflow.verdicts";
    public static final String RESULTS = "robustflow.results";
    public static final String COUNTEREXAMPLES = "robustflow.counterexamples";
    public static final String DEAD_LETTERS = "robustflow.dead-letters";
    public static final String RUNS = "robustflow.runs";

    /** Images are the parallel input: one partition per source subtask on a small cluster. */
    public static final int IMAGE_PARTITIONS = 4;

    /**
     * Largest model message: Kafka's 1 MB default holds only small MLPs (a 784-256-256-10 network
     * is 2.2 MB of doubles, mnist_fc's 256x6 4.2 MB). The models topic allows this much
     * (max.message.bytes), and our producers may send it (max.request.size).
     */
    public static final int MODEL_MAX_BYTES = 16 << 20;

    public Topics {
        clientOverrides = Map.copyOf(clientOverrides);
    }

    public static Topics defaults(String bootstrapServers) {
        return new Topics(
                IMAGES,
                MODELS,
                VERDICTS,
                RESULTS,
                COUNTEREXAMPLES,
                DEAD_LETTERS,
                RUNS,
                bootstrapServers,
                Map.of());
    }

    /**
     * The same topics with extra Kafka client settings for every client (admin, producers,
     * consumers, the job's sources and sinks), e.g. security.protocol=SASL_SSL, sasl.mechanism,
     * sasl.jaas.config, ssl.truststore.location.
     */
    public Topics withClientOverrides(Map<String, String> overrides) {
        return new Topics(
                images,
                models,
                verdicts,
                results,
                counterexamples,
                deadLetters,
                runs,
                bootstrapServers,
                overrides);
    }

    /** The same names with a suffix, so tests get fresh topics. */
    public Topics withSuffix(String suffix) {
        return new Topics(
                images + suffix,
                models + suffix,
                verdicts + suffix,
                results + suffix,
                counterexamples + suffix,
                deadLetters + suffix,
                runs + suffix,
                bootstrapServers,
                clientOverrides);
    }

    /** Creates the topics that do not exist yet; existing ones are left as they are. */
    public void createIfAbsent() throws InterruptedException, ExecutionException {
        List<NewTopic> wanted = new ArrayList<>();
        wanted.add(new NewTopic(images, IMAGE_PARTITIONS, (short) 1));
        wanted.add(
                new NewTopic(models, 1, (short) 1)
                        .configs(
                                Map.of(
                                        TopicConfig.CLEANUP_POLICY_CONFIG,
                                        TopicConfig.CLEANUP_POLICY_COMPACT,
                                        TopicConfig.MAX_MESSAGE_BYTES_CONFIG,
                                        String.valueOf(MODEL_MAX_BYTES))));
        wanted.add(new NewTopic(verdicts, IMAGE_PARTITIONS, (short) 1));
        wanted.add(
                new NewTopic(results, 1, (short) 1)
                        .configs(
                                Map.of(
                                        TopicConfig.CLEANUP_POLICY_CONFIG,
                                        TopicConfig.CLEANUP_POLICY_COMPACT)));
        wanted.add(new NewTopic(counterexamples, 1, (short) 1));
        wanted.add(new NewTopic(deadLetters, 1, (short) 1));
        // Run announcements, key = run id: events the job reads once, like images.
        wanted.add(new NewTopic(runs, 1, (short) 1));
        try (Admin admin = Admin.create(clientProperties())) {
            var existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing =
                    wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
        } catch (java.util.concurrent.TimeoutException e) {
            throw new ExecutionException(
                    "Kafka at " + bootstrapServers + " did not answer within 30 s", e);
        }
    }

    /** Properties every client of ours starts from: the address, then the overrides. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // Fail fast on a wrong address instead of retrying for the default 2 minutes.
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "30000");
        p.putAll(clientOverrides);
        return p;
    }
}
