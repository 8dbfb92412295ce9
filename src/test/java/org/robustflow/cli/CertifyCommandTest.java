package org.robustflow.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;
import org.robustflow.testutils.ReferenceVerdicts;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CertifyCommandTest {
    @TempDir Path dir;

    @Test
    void shouldWriteJsonAndVerdictsThatMatchTheSweep() throws Exception {
        Path json = dir.resolve("box.json");
        Path csv = dir.resolve("verdicts.csv");
        String model = Fixtures.defaultModelFile().toString();
        int exit =
                Main.commandLine()
                        .execute(
                                "certify",
                                "--model",
                                model,
                                "--data-dir",
                                Fixtures.MNIST_DIR.toString(),
                                "--limit",
                                "200",
                                "--method",
                                "box",
                                "--no-attack",
                                "--eps",
                                "0.001,0.002:0.004:3",
                                "--json",
                                json.toString(),
                                "--verdicts",
                                csv.toString());
        assertThat(exit).isZero();

        Network mlp = Fixtures.defaultModel();
        double[] eps = {0.001, 0.002, 0.003, 0.004};
        Sweep.Report expected = Sweep.run(mlp, Fixtures.mnistTest().head(200), eps, 1, 16, k -> {});
        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("total").asInt()).isEqualTo(200);
        assertThat(root.get("correct").asInt()).isEqualTo(expected.correct());
        assertThat(root.get("eps").size()).isEqualTo(4);
        for (int e = 0; e < eps.length; e++) {
            assertThat(root.get("eps").get(EpsilonGrid.key(eps[e])).get("certified").asInt())
                    .isEqualTo(expected.certified(e));
        }
        assertThat(expected.certified(0)).isPositive();

        List<String> lines = Files.readAllLines(csv);
        assertThat(lines).hasSize(1 + 200 * 4);
        assertThat(lines.get(0)).isEqualTo("index,eps,verdict,method,seconds");
        Decision first = expected.results()[0][0];
        assertThat(lines.get(1)).startsWith("0,0.0010," + first.verdict() + ",box,");
    }

    @ParameterizedTest
    @ValueSource(strings = {"box", "crown"})
    void shouldCertifyExactlyThePairsOfTheIndependentReference(String method) throws Exception {
        // Expectations from tools/reference_verdicts.py, not from our classes.
        ReferenceVerdicts reference = ReferenceVerdicts.of(method);
        Path json = dir.resolve("reference.json");
        Path csv = dir.resolve("reference.csv");
        int images = 200;
        double[] eps = {0.001, 0.002, 0.003, 0.004, 0.005, 0.01, 0.02, 0.03};
        int exit =
                Main.commandLine()
                        .execute(
                                "certify",
                                "--model",
                                ReferenceVerdicts.modelFile(dir).toString(),
                                "--data-dir",
                                Fixtures.MNIST_DIR.toString(),
                                "--limit",
                                String.valueOf(images),
                                "--method",
                                method,
                                "--no-attack",
                                "--eps",
                                "0.001:0.005:5,0.01:0.03:3",
                                "--json",
                                json.toString(),
                                "--verdicts",
                                csv.toString());
        assertThat(exit).isZero();

        JsonNode root = new ObjectMapper().readTree(json.toFile());
        assertThat(root.get("correct").asInt())
                .isEqualTo(images - reference.misclassifiedCount(images));
        for (double e : eps) {
            assertThat(root.get("eps").get(EpsilonGrid.key(e)).get("certified").asInt())
                    .as("certified at %s", e)
                    .isEqualTo(reference.certifiedCount(e, images));
        }
        // Neither all nor nothing certified: the comparison can tell.
        assertThat(reference.certifiedCount("box".equals(method) ? 0.003 : 0.03, images))
                .isBetween(20, images - 20);

        // Pair by pair: index,eps,verdict,method,seconds.
        List<String> lines = Files.readAllLines(csv);
        assertThat(lines).hasSize(1 + images * eps.length);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",");
            int image = Integer.parseInt(f[0]);
            double e = Double.parseDouble(f[1]);
            String expected =
                    reference.misclassified(image)
                            ? "MISCLASSIFIED"
                            : reference.certified(image, e) ? "CERTIFIED" : "UNKNOWN";
            assertThat(f[2]).as("image %d eps %s", image, e).isEqualTo(expected);
            assertThat(f[3]).isEqualTo(method);
        }
    }

    @Test
    void shouldFailWithAClearMessageOnABadEpsList() {
        java.io.StringWriter err = new java.io.StringWriter();
        var cli = Main.commandLine();
        cli.setErr(new java.io.PrintWriter(err));
        int exit =
                cli.execute(
                        "certify",
                        "--model",
                        Fixtures.defaultModelFile().toString(),
                        "--eps",
                        "0.1:0.01:3");
        assertThat(exit).isEqualTo(2);
        assertThat(err.toString()).contains("error:").contains("end >= start");
    }
}
