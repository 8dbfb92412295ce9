package org.robustflow.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.robustflow.model.Network;
import org.robustflow.model.onnx.OnnxImporter;
import org.robustflow.spec.Box;
import org.robustflow.spec.Property;
import org.robustflow.spec.VnnlibReader;
import org.robustflow.testutils.Bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code verify} and {@code vnncomp} on the real mnist_fc files. */
class VerifyCommandTest {
    @TempDir Path dir;

    @Test
    void shouldWriteASatCounterexampleThatLiesInTheBoxAndReproducesTheOutputs() throws Exception {
        Path bench = Bench.mnistFc();
        assumeTrue(bench != null, "shared/bench not found");
        Path onnx = bench.resolve("onnx/mnist-net_256x2.onnx.gz");
        Path vnnlib = bench.resolve("vnnlib/prop_1_0.03.vnnlib.gz"); // sat for every tool
        Path out = dir.resolve("result.txt");
        int exit =
                Main.commandLine()
                        .execute(
                                "verify",
                                "--onnx",
                                onnx.toString(),
                                "--vnnlib",
                                vnnlib.toString(),
                                "--timeout",
                                "30",
                                "--out",
                                out.toString());
        assertThat(exit).isZero();
        String text = Files.readString(out, StandardCharsets.UTF_8);
        assertThat(text).startsWith("sat\n((X_0 ");
        double[] x = values(text, "X", 784);
        double[] y = values(text, "Y", 10);
        Property property = VnnlibReader.read(vnnlib);
        Box box = property.regions().get(0).input();
        assertThat(box.contains(x)).isTrue();
        Network net = OnnxImporter.read(onnx);
        assertThat(net.logits(x)).containsExactly(y);
        assertThat(property.regions().get(0).violation().isViolatedBy(y)).isTrue();
    }

    @Test
    void shouldAnswerEveryInstanceOfABenchmarkFolderInCsv() throws Exception {
        Path bench = Bench.mnistFc();
        assumeTrue(bench != null, "shared/bench not found");
        Path folder = dir.resolve("bench");
        Files.createDirectories(folder);
        Files.writeString(
                folder.resolve("instances.csv"),
                String.join(
                        "\n",
                        bench.resolve("onnx/mnist-net_256x2.onnx")
                                + ","
                                + bench.resolve("vnnlib/prop_5_0.03.vnnlib")
                                + ",120",
                        bench.resolve("onnx/mnist-net_256x2.onnx")
                                + ","
                                + bench.resolve("vnnlib/prop_12_0.03.vnnlib")
                                + ",120",
                        bench.resolve("onnx/missing.onnx")
                                + ","
                                + bench.resolve("vnnlib/prop_12_0.03.vnnlib")
                                + ",120"));
        Path csv = dir.resolve("results.csv");
        int exit =
                Main.commandLine().execute("vnncomp", folder.toString(), "--out", csv.toString());
        assertThat(exit).isZero();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        assertThat(lines.get(0)).isEqualTo("network,property,result,seconds");
        assertThat(lines).hasSize(4);
        assertThat(lines.get(1)).startsWith("mnist-net_256x2.onnx,prop_5_0.03.vnnlib,unsat,");
        assertThat(lines.get(2)).startsWith("mnist-net_256x2.onnx,prop_12_0.03.vnnlib,sat,");
        assertThat(lines.get(3)).startsWith("missing.onnx,prop_12_0.03.vnnlib,error,");
    }

    private static double[] values(String text, String name, int count) {
        double[] v = new double[count];
        Matcher m = Pattern.compile("\\(" + name + "_(\\d+) ([^)]+)\\)").matcher(text);
        int seen = 0;
        while (m.find()) {
            v[Integer.parseInt(m.group(1))] = Double.parseDouble(m.group(2));
            seen++;
        }
        assertThat(seen).isEqualTo(count);
        return v;
    }
}
