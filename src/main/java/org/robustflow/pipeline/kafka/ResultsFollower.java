package org.robustflow.pipeline.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.data.AvroCodec;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Follows the results topic (read_committed) and keeps the newest accuracy per eps for one run and,
 * once known, one model version (the first seen unless given).
 */
public final class ResultsFollower implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroCodec<EpsilonAccuracy> codec = AvroCodec.of(EpsilonAccuracy.class);
    private final String runId;
    private String modelVersion;
    private final Map<String, EpsilonAccuracy> latest = new TreeMap<>();

    /**
     * @param runId the run to follow; null follows the first run seen
     */
    public ResultsFollower(Topics topics, String runId, String modelVersion) {
        this.consumer = KafkaClients.committedReader(topics);
        this.consumer.subscribe(List.of(topics.results()));
        this.runId = runId;
        this.modelVersion = modelVersion;
    }

    /** Reads what arrived within {@code timeout}; returns true if anything changed. */
    public boolean poll(Duration timeout) {
        boolean changed = false;
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
            EpsilonAccuracy a;
            try {
                a = codec.decode(r.value());
            } catch (IOException e) {
                continue; // not a result of ours; the job writes only valid records
            }
            if ((runId != null && !runId.equals(a.getRunId()))
                    || (modelVersion != null && !modelVersion.equals(a.getModelVersion()))) {
                continue;
            }
            if (runId == null
                    && !latest.isEmpty()
                    && !latest.values().iterator().next().getRunId().equals(a.getRunId())) {
                continue;
            }
            modelVersion = a.getModelVersion();
            String key = EpsilonGrid.key(a.getEps());
            EpsilonAccuracy previous = latest.get(key);
            if (previous == null || previous.getSeen() <= a.getSeen()) {
                latest.put(key, a);
                changed = true;
            }
        }
        return changed;
    }

    /** The newest record per eps key, in eps order. */
    public Map<String, EpsilonAccuracy> latest() {
        return latest;
    }

    /** Whether {@code expectedEps} keys are all present and complete. */
    public boolean complete(int expectedEps) {
        return latest.size() >= expectedEps
                && latest.values().stream().allMatch(EpsilonAccuracy::getComplete);
    }

    @Override
    public void close() {
        consumer.close();
    }
}
