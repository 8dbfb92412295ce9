package org.robustflow.pipeline;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.InputBox;
import org.robustflow.bounds.Verdict;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.AccuracyEvent;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;
import org.robustflow.pipeline.records.VerdictEvent;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.PipelineFixtures;
import org.robustflow.testutils.ReferenceVerdicts;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The topology on a MiniCluster at parallelism 2, fed from memory, against the offline sweep. */
class VerificationJobITCase {
    private static final int IMAGES = 300;
    private static final double[] EPS = {0.0005, 0.001, 0.002, 0.01};

    @RegisterExtension
    static final MiniClusterExtension CLUSTER =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

    private static Outputs run(Function<VerificationJob.Outputs, DataStream<?>> pick)
            throws Exception {
        return run(
                pick,
                IMAGES,
                JobConfig.builder()
                        .method("box")
                        .attack(false)
                        .milp(-1, 0, 1)
                        .eps(EPS)
                        .boundParallelism(2)
                        .resultIntervalMs(50)
                        .build());
    }

    private static Outputs run(
            Function<VerificationJob.Outputs, DataStream<?>> pick, int count, JobConfig cfg)
            throws Exception {
        return run(pick, count, cfg, Fixtures.defaultModel());
    }

    private static Outputs run(
            Function<VerificationJob.Outputs, DataStream<?>> pick,
            int count,
            JobConfig cfg,
            Network model)
            throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        List<ImageEvent> images = PipelineFixtures.images("run-1", count);
        DataStream<ImageEvent> imageStream = env.fromData(images);
        DataStream<ModelEvent> models = env.fromData(PipelineFixtures.modelEvent(model));
        VerificationJob.Outputs outputs = VerificationJob.build(imageStream, models, cfg);
        return new Outputs(pick.apply(outputs).executeAndCollect(100_000));
    }

    private record Outputs(List<?> items) {}

    @Test
    void shouldMatchTheOfflineSweepExactly() throws Exception {
        @SuppressWarnings("unchecked")
        List<AccuracyEvent> results =
                (List<AccuracyEvent>) run(VerificationJob.Outputs::results).items();
        Map<String, AccuracyEvent> finals =
                results.stream()
                        .filter(a -> a.complete)
                        .collect(Collectors.toMap(a -> EpsilonGrid.key(a.eps), a -> a));
        assertThat(finals).hasSize(EPS.length);

        Network mlp = Fixtures.defaultModel();
        Sweep.Report expected =
                Sweep.run(mlp, Fixtures.mnistTest().head(IMAGES), EPS, 1, 64, k -> {});
        for (int e = 0; e < EPS.length; e++) {
            AccuracyEvent a = finals.get(EpsilonGrid.key(EPS[e]));
            assertThat(a.seen).isEqualTo(IMAGES);
            assertThat(a.certified).as("certified at %s", EPS[e]).isEqualTo(expected.certified(e));
            assertThat(a.misclassified).isEqualTo(IMAGES - expected.correct());
            assertThat(a.modelVersion).isEqualTo(mlp.version());
        }
        assertThat(expected.certified(0)).isPositive();
    }

    @ParameterizedTest
    @ValueSource(strings = {"box", "crown"})
    void shouldMatchTheIndependentReferenceVerdicts(String method) throws Exception {
        // Expectations from tools/reference_verdicts.py (not from our classes) for a fixed model.
        ReferenceVerdicts reference = ReferenceVerdicts.of(method);
        int count = ReferenceVerdicts.COUNT;
        double[] eps = reference.eps();
        JobConfig cfg =
                JobConfig.builder()
                        .method(method)
                        .attack(false)
                        .milp(-1, 0, 1)
                        .eps(eps)
                        .boundParallelism(2)
                        .resultIntervalMs(50)
                        .build();
        @SuppressWarnings("unchecked")
        List<String> lines =
                (List<String>)
                        run(
                                        o ->
                                                o.verdicts()
                                                        .map(
                                                                v ->
                                                                        "V," + v.imageId + ","
                                                                                + v.eps + ","
                                                                                + v.verdict)
                                                        .union(
                                                                o.results()
                                                                        .filter(a -> a.complete)
                                                                        .map(
                                                                                a ->
                                                                                        "A,"
                                                                                                + a.eps
                                                                                                + ","
                                                                                                + a.seen
                                                                                                + ","
                                                                                                + a.certified
                                                                                                + ","
                                                                                                + a.misclassified)),
                                        count,
                                        cfg,
                                        ReferenceVerdicts.model())
                                .items();
        List<String[]> verdicts =
                lines.stream().filter(l -> l.startsWith("V,")).map(l -> l.split(",")).toList();
        assertThat(verdicts).hasSize(count * eps.length);
        for (String[] v : verdicts) {
            int image = Integer.parseInt(v[1]);
            double e = Double.parseDouble(v[2]);
            String expected =
                    reference.misclassified(image)
                            ? "MISCLASSIFIED"
                            : reference.certified(image, e) ? "CERTIFIED" : "UNKNOWN";
            assertThat(v[3]).as("image %d eps %s", image, e).isEqualTo(expected);
        }
        for (double e : eps) {
            String[] last =
                    lines.stream()
                            .filter(l -> l.startsWith("A," + e + ","))
                            .findFirst()
                            .orElseThrow()
                            .split(",");
            assertThat(Integer.parseInt(last[2])).isEqualTo(count);
            assertThat(Integer.parseInt(last[3]))
                    .as("certified at %s", e)
                    .isEqualTo(reference.certifiedCount(e, count));
            assertThat(Integer.parseInt(last[4])).isEqualTo(reference.misclassifiedCount(count));
        }
    }

    @Test
    void shouldEmitEveryVerdictExactlyOnce() throws Exception {
        @SuppressWarnings("unchecked")
        List<VerdictEvent> verdicts =
                (List<VerdictEvent>) run(VerificationJob.Outputs::verdicts).items();
        assertThat(verdicts).hasSize(IMAGES * EPS.length);
        Set<String> pairs = new HashSet<>();
        for (VerdictEvent v : verdicts) {
            pairs.add(v.imageId + "@" + v.eps);
        }
        assertThat(pairs).hasSize(IMAGES * EPS.length);
    }

    @Test
    void shouldMatchOfflineCrownAndPgdWithRecheckedWitnesses() throws Exception {
        int count = 60;
        double[] eps = {0.01, 0.03};
        JobConfig cfg =
                JobConfig.builder()
                        .method("crown")
                        .attack(true)
                        .milp(-1, 0, 1)
                        .eps(eps)
                        .boundParallelism(2)
                        .resultIntervalMs(50)
                        .build();
        @SuppressWarnings("unchecked")
        List<VerdictEvent> verdicts =
                (List<VerdictEvent>) run(VerificationJob.Outputs::verdicts, count, cfg).items();
        assertThat(verdicts).hasSize(count * eps.length);

        Network mlp = Fixtures.defaultModel();
        Sweep.Report expected =
                Sweep.run(
                        new CrownCertifier(mlp),
                        new Cascade(mlp, Cascade.Settings.incomplete(Pgd.Settings.defaults())),
                        Fixtures.mnistTest().head(count),
                        eps,
                        1,
                        16,
                        k -> {});
        for (VerdictEvent v : verdicts) {
            int e = v.eps == eps[0] ? 0 : 1;
            Decision d = expected.results()[(int) v.imageId][e];
            assertThat(v.verdict).as("image %d eps %s", v.imageId, v.eps).isEqualTo(d.verdict());
            assertThat(v.method).isEqualTo(d.method());
            if (v.verdict == Verdict.FALSIFIED) {
                double[] x = Fixtures.mnistTest().pixels((int) v.imageId);
                assertThat(InputBox.contains(x, v.eps, v.witness, 1e-8)).isTrue();
                assertThat(mlp.predict(v.witness)).isNotEqualTo(v.label);
            } else {
                assertThat(v.witness).isNull();
            }
        }
        assertThat(verdicts)
                .anyMatch(v -> v.verdict == Verdict.FALSIFIED)
                .anyMatch(v -> v.verdict == Verdict.CERTIFIED);
    }

    @Test
    void shouldRouteSmallUndecidedPairsToMilpAndKeepAggregatesExact() throws Exception {
        int count = 40;
        double[] eps = {0.01, 0.02};
        JobConfig cfg =
                JobConfig.builder()
                        .method("crown")
                        .attack(true)
                        .milp(40, 10_000, 2)
                        .set(JobConfig.EXACT_METHOD, "milp")
                        .eps(eps)
                        .boundParallelism(2)
                        .resultIntervalMs(50)
                        .build();
        Network mlp = Fixtures.defaultModel();
        @SuppressWarnings("unchecked")
        List<VerdictEvent> verdicts =
                (List<VerdictEvent>) run(VerificationJob.Outputs::verdicts, count, cfg).items();
        assertThat(verdicts).hasSize(count * eps.length);
        assertThat(verdicts.stream().map(v -> v.imageId + "@" + v.eps).distinct().count())
                .isEqualTo(count * eps.length);
        assertThat(verdicts).anyMatch(v -> v.method.equals("milp"));
        for (VerdictEvent v : verdicts) {
            if (v.verdict == Verdict.FALSIFIED) {
                double[] x = Fixtures.mnistTest().pixels((int) v.imageId);
                assertThat(InputBox.contains(x, v.eps, v.witness, 1e-8)).isTrue();
                assertThat(mlp.predict(v.witness)).isNotEqualTo(v.label).isEqualTo(v.witnessClass);
            }
        }

        // Verdicts and aggregates from one run (MILP time limits make two runs differ in
        // principle).
        @SuppressWarnings("unchecked")
        List<String> lines =
                (List<String>)
                        run(
                                        o ->
                                                o.verdicts()
                                                        .map(v -> "V," + v.eps + "," + v.verdict)
                                                        .union(
                                                                o.results()
                                                                        .filter(a -> a.complete)
                                                                        .map(
                                                                                a ->
                                                                                        "A,"
                                                                                                + a.eps
                                                                                                + ","
                                                                                                + a.seen
                                                                                                + ","
                                                                                                + a.certified
                                                                                                + ","
                                                                                                + a.falsified)),
                                        count,
                                        cfg)
                                .items();
        for (double e : eps) {
            String[] last =
                    lines.stream()
                            .filter(l -> l.startsWith("A," + e + ","))
                            .findFirst()
                            .orElseThrow()
                            .split(",");
            long certified = lines.stream().filter(l -> l.equals("V," + e + ",CERTIFIED")).count();
            long falsified = lines.stream().filter(l -> l.equals("V," + e + ",FALSIFIED")).count();
            assertThat(Long.parseLong(last[2])).isEqualTo(count);
            assertThat(Long.parseLong(last[3])).isEqualTo(certified);
            assertThat(Long.parseLong(last[4])).isEqualTo(falsified);
        }
    }
}
