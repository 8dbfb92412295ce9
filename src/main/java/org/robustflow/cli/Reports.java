package org.robustflow.cli;

import org.robustflow.avro.Counterexample;
import org.robustflow.avro.EpsilonAccuracy;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.data.AvroCodec;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.kafka.KafkaClients;
import org.robustflow.pipeline.kafka.Topics;
import org.robustflow.report.ReportWriter;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Gathers a run's table, model and counterexamples from Kafka and writes its report. */
final class Reports {
    private Reports() {}

    /**
     * @param images the data set the run streamed (originals are looked up by image id)
     */
    static Path write(
            Path dir,
            Topics topics,
            String runId,
            Map<String, EpsilonAccuracy> rows,
            ModelSnapshot model,
            MnistDataset images)
            throws IOException {
        List<ReportWriter.Row> table = new ArrayList<>();
        for (EpsilonAccuracy a : rows.values()) {
            table.add(
                    new ReportWriter.Row(
                            a.getEps(),
                            a.getSeen(),
                            a.getCertified(),
                            a.getFalsified(),
                            a.getMisclassified(),
                            a.getUnknown(),
                            a.getCertifiedByBounds(),
                            a.getFalsifiedByPgd()));
        }
        table.sort(Comparator.comparingDouble(ReportWriter.Row::eps));
        AvroCodec<Counterexample> codec = AvroCodec.of(Counterexample.class);
        List<ReportWriter.Example> examples = new ArrayList<>();
        for (byte[] value :
                KafkaClients.readCommitted(
                        topics, topics.counterexamples(), Duration.ofSeconds(3))) {
            Counterexample c;
            try {
                c = codec.decode(value);
            } catch (IOException e) {
                continue; // not ours to judge here; the job wrote it
            }
            if (!c.getRunId().equals(runId) || c.getImageId() >= images.size()) {
                continue;
            }
            double[] witness = c.getWitness().stream().mapToDouble(Double::doubleValue).toArray();
            examples.add(
                    new ReportWriter.Example(
                            c.getImageId(),
                            c.getEps(),
                            c.getLabel(),
                            c.getPredicted(),
                            c.getMethod(),
                            images.pixels((int) c.getImageId()),
                            witness));
        }
        examples.sort(
                Comparator.comparingDouble(ReportWriter.Example::eps)
                        .thenComparingLong(ReportWriter.Example::imageId));
        Network mlp = ModelIo.toNetwork(model);
        return ReportWriter.write(
                dir,
                runId,
                new ReportWriter.ModelInfo(
                        model.getVersion(), mlp.architecture(), model.getTestAccuracy()),
                table,
                examples);
    }
}
