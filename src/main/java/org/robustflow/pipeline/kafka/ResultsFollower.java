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
 * Follows the results topic (read_committed) for one run: the newest accuracy per (model version,
 * eps) row, and the run-level progress (images done, rejected, complete, missing images) that every
 * row carries.
 */
public final class ResultsFollower implements AutoCloseable {
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final AvroCodec<EpsilonAccuracy> codec = AvroCodec.of(EpsilonAccuracy.class);
    private String runId;
    private final String modelVersion;
    private final Map<String, EpsilonAccuracy> latest = new TreeMap<>();
    private EpsilonAccuracy status;

    /**
     * @param runId the run to follow; null follows the first run seen
     * @param modelVersion only this model version's rows; null for all
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
            if (runId == null) {
                runId = a.getRunId();
            }
            if (!runId.equals(a.getRunId())) {
                continue;
            }
            status = a; // run-level fields: the newest record of the run has the newest
            changed = true;
            if (a.getModelVersion().isEmpty()
                    || (modelVersion != null && !modelVersion.equals(a.getModelVersion()))) {
                continue;
            }
            latest.put(a.getModelVersion() + "/" + EpsilonGrid.key(a.getEps()), a);
        }
        return changed;
    }

    /** The newest record per (model version, eps) row, in that order. */
    public Map<String, EpsilonAccuracy> latest() {
        return latest;
    }

    /** The newest record of the run, for its run-level fields; null before the first. */
    public EpsilonAccuracy status() {
        return status;
    }

    /** The run is complete and every row of it has been read in its final form. */
    public boolean complete() {
        return status != null
                && status.getComplete()
                && (modelVersion != null || latest.size() >= status.getRunRows())
                && latest.values().stream().allMatch(EpsilonAccuracy::getComplete);
    }

    /** {@link #complete()} with at least {@code expectedRows} rows. */
    public boolean complete(int expectedRows) {
        return complete() && latest.size() >= expectedRows;
    }

    /** The image ids the job last reported missing (after a stall), else empty. */
    public List<Long> missingImages() {
        return status == null ? List.of() : status.getMissingImages();
    }

    @Override
    public void close() {
        consumer.close();
    }
}
