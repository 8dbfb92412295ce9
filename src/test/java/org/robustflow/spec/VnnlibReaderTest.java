package org.robustflow.spec;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.robustflow.testutils.Bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class VnnlibReaderTest {
    private static final Pattern LABEL = Pattern.compile("label: (\\d+)");
    private static final Pattern BOUND =
            Pattern.compile("\\(assert \\((<=|>=) X_(\\d+) ([-0-9.eE]+)\\)\\)");

    private static Path bench;

    @BeforeAll
    static void findBenchmark() {
        bench = Bench.mnistFc();
    }

    private static Path vnnlibDir() {
        assumeTrue(bench != null, "shared/bench/vnncomp2022-mnist_fc not found above the cwd");
        return bench.resolve("vnnlib");
    }

    private static String gunzip(Path file) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void shouldReadAllThirtyBenchmarkPropertiesAsRobustnessOfTheirLabel() throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(vnnlibDir())) {
            files = s.filter(p -> p.toString().endsWith(".vnnlib.gz")).sorted().toList();
        }
        assertThat(files).hasSize(30);
        for (Path file : files) {
            String text = gunzip(file);
            Matcher m = LABEL.matcher(text);
            assertThat(m.find()).as(file + " names its label").isTrue();
            int label = Integer.parseInt(m.group(1));

            Property p = VnnlibReader.read(file);

            assertThat(p.regions()).as(file.toString()).hasSize(1);
            Property.Region region = p.regions().get(0);
            assertThat(region.input().size()).isEqualTo(784);
            assertThat(region.violation().outputs()).isEqualTo(10);
            assertThat(region.violation().robustnessLabel()).as(file.toString()).isEqualTo(label);
            for (int i = 0; i < 784; i++) {
                assertThat(region.input().lower(i)).isBetween(0.0, 1.0);
                assertThat(region.input().upper(i)).isBetween(region.input().lower(i), 1.0);
            }
        }
    }

    @Test
    void shouldReadProp0WithTheFilesBoundsAndLabelFour() throws IOException {
        Path file = vnnlibDir().resolve("prop_0_0.03.vnnlib.gz");
        String text = gunzip(file);
        Property p = VnnlibReader.read(file);

        assertThat(p.regions()).hasSize(1);
        Property.Region region = p.regions().get(0);
        assertThat(region.violation().robustnessLabel()).isEqualTo(4);
        assertThat(region.violation().disjuncts())
                .containsExactlyInAnyOrderElementsOf(OutputSpec.robustness(10, 4).disjuncts());

        // Every bound in the file, compared exactly with what was read.
        Matcher m = BOUND.matcher(text);
        int bounds = 0;
        while (m.find()) {
            int i = Integer.parseInt(m.group(2));
            double v = Double.parseDouble(m.group(3));
            double read =
                    m.group(1).equals("<=") ? region.input().upper(i) : region.input().lower(i);
            assertThat(read).as("X_%d %s", i, m.group(1)).isEqualTo(v);
            bounds++;
        }
        assertThat(bounds).isEqualTo(2 * 784);
        // Same text without gzip, from a string, gives the same property.
        Property fromText = VnnlibReader.parse(text, "prop_0_0.03.vnnlib");
        assertThat(fromText.regions().get(0).input().lower())
                .containsExactly(region.input().lower());
        assertThat(fromText.regions().get(0).violation()).isEqualTo(region.violation());
    }

    @Test
    void shouldReadPlainFileFromDisk(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("tiny.vnnlib");
        Files.writeString(
                file,
                declarations(2, 2)
                        + "(assert (<= X_0 1))(assert (>= X_0 0))\n"
                        + "(assert (<= X_1 1))(assert (>= X_1 -1))(assert (>= Y_0 Y_1))\n");
        Property p = VnnlibReader.read(file);
        assertThat(p.regions().get(0).input().lower()).containsExactly(0.0, -1.0);
        assertThat(p.regions().get(0).violation().disjuncts())
                .containsExactly(List.of(new LinearConstraint(new double[] {-1, 1}, 0)));
    }

    private static String declarations(int inputs, int outputs) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < inputs; i++) {
            s.append("(declare-const X_").append(i).append(" Real)\n");
        }
        for (int j = 0; j < outputs; j++) {
            s.append("(declare-const Y_").append(j).append(" Real)\n");
        }
        return s.toString();
    }

    @Test
    void shouldGiveOneRegionPerDisjunctWithItsOwnInputBoundsAcasStyle() {
        // The shape of VNN-COMP's ACAS Xu properties: common bounds, then an or of ands that
        // each narrow the inputs and constrain the outputs.
        String text =
                declarations(3, 3)
                        + "; common bounds\n"
                        + "(assert (>= X_0 -1)) (assert (<= X_0 1))\n"
                        + "(assert (>= X_1 0)) (assert (<= X_1 1))\n"
                        + "(assert (>= X_2 0)) (assert (<= X_2 1))\n"
                        + "(assert (or\n"
                        + "  (and (<= X_0 0) (>= Y_0 Y_1))\n"
                        + "  (and (>= X_0 0) (<= X_2 0.5) (<= Y_0 Y_1) (<= Y_2 3))\n"
                        + "  (and (<= X_0 0) (>= Y_2 Y_1))\n"
                        + "))\n";
        Property p = VnnlibReader.parse(text, "acas.vnnlib");

        assertThat(p.regions()).hasSize(2);
        Property.Region left = p.regions().get(0);
        Property.Region right = p.regions().get(1);
        assertThat(left.input().lower()).containsExactly(-1, 0, 0);
        assertThat(left.input().upper()).containsExactly(0, 1, 1);
        // Disjuncts 1 and 3 share the box, so they share the region.
        assertThat(left.violation().disjuncts())
                .containsExactly(
                        List.of(LinearConstraint.atLeast(3, 0, 1)),
                        List.of(LinearConstraint.atLeast(3, 2, 1)));
        assertThat(right.input().lower()).containsExactly(0, 0, 0);
        assertThat(right.input().upper()).containsExactly(1, 1, 0.5);
        assertThat(right.violation().disjuncts())
                .containsExactly(
                        List.of(
                                LinearConstraint.atLeast(3, 1, 0),
                                new LinearConstraint(new double[] {0, 0, 1}, 3)));
    }

    @Test
    void shouldDropDisjunctsWhoseInputBoundsContradict() {
        String text =
                declarations(1, 2)
                        + "(assert (>= X_0 0)) (assert (<= X_0 1))\n"
                        + "(assert (or (and (>= X_0 2) (>= Y_0 Y_1)) (and (<= X_0 1) (>= Y_1 Y_0))))";
        Property p = VnnlibReader.parse(text, "t");
        assertThat(p.regions()).hasSize(1);
        assertThat(p.regions().get(0).violation().disjuncts())
                .containsExactly(List.of(LinearConstraint.atLeast(2, 1, 0)));
    }

    @Test
    void shouldNormaliseLinearTermsOverOutputs() {
        String text =
                declarations(1, 3)
                        + "(assert (<= X_0 1)) (assert (<= (- 0.5) X_0))\n"
                        + "(assert (or\n"
                        + "  (<= (+ (* 2 Y_0) (* Y_1 -0.5) (- 0.25)) 1e-1)\n"
                        + "  (and (> (- Y_0 Y_1) 0) (< (- Y_2) (* -1.5 2)))\n"
                        + "  (>= 4 (+ Y_2 Y_2 (- Y_2)) 1)\n"
                        + "))";
        Property p = VnnlibReader.parse(text, "t");

        assertThat(p.regions()).hasSize(1);
        assertThat(p.regions().get(0).input().lower()).containsExactly(-0.5);
        assertThat(p.regions().get(0).violation().disjuncts())
                .containsExactly(
                        // 2 y0 - 0.5 y1 - 0.25 <= 0.1
                        List.of(new LinearConstraint(new double[] {2, -0.5, 0}, 0.25 + 0.1)),
                        // y0 - y1 > 0 read as y1 - y0 <= 0; -y2 < -3 as -y2 <= -3
                        List.of(
                                new LinearConstraint(new double[] {-1, 1, 0}, 0),
                                new LinearConstraint(new double[] {0, 0, -1}, -3)),
                        // chain 4 >= y2 >= 1
                        List.of(
                                new LinearConstraint(new double[] {0, 0, 1}, 4),
                                new LinearConstraint(new double[] {0, 0, -1}, -1)));
    }

    @Test
    void shouldScaleInputBoundsByTheirCoefficientRoundingOutward() {
        Property p =
                VnnlibReader.parse(
                        declarations(1, 1)
                                + "(assert (<= (* 3 X_0) 1)) (assert (>= (* 3 X_0) -1))"
                                + " (assert (<= Y_0 0))",
                        "t");
        double upper = p.regions().get(0).input().upper(0);
        double lower = p.regions().get(0).input().lower(0);
        // 1/3 in double is below the real 1/3, so the upper bound must be the next double up.
        assertThat(upper).isEqualTo(Math.nextUp(1.0 / 3));
        assertThat(lower).isEqualTo(Math.nextDown(-1.0 / 3));
    }

    static Stream<Arguments> malformed() {
        String decl = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n";
        String bounds = "(assert (>= X_0 0))\n(assert (<= X_0 1))\n";
        return Stream.of(
                Arguments.of(decl + "(assert (<= X_0 1)\n", 3, 1, "never closed"),
                Arguments.of(decl + bounds + "(assert (<= Y_0 1)))", 5, 20, "unexpected ')'"),
                Arguments.of(decl + "(declare-const Z_0 Real)", 3, 16, "expected X_i"),
                Arguments.of(decl + bounds + "(assert (<= Y_1 1))", 5, 13, "undeclared"),
                Arguments.of(decl + bounds + "(assert (<= Y_0 0.5.1))", 5, 17, "bad number"),
                Arguments.of(decl + bounds + "(assert (<= Y_0 1e999))", 5, 17, "range"),
                Arguments.of(decl + bounds + "(assert (= Y_0 1))", 5, 10, "unsupported operator"),
                Arguments.of(decl + bounds + "(assert (<= (/ Y_0 2) 1))", 5, 14, "'/'"),
                Arguments.of(decl + bounds + "(assert (<= Y_0 foo))", 5, 17, "unknown symbol"),
                Arguments.of(decl + "(declare-const X_0 Real)", 3, 16, "already declared"),
                Arguments.of(decl + "(declare-const X_2 Real)", 3, 16, "X_1 is not"),
                Arguments.of(decl + "(declare-const Y_1 Int)", 3, 20, "sort Real"),
                Arguments.of(
                        decl + "(assert (<= X_0 1))\n(assert (<= Y_0 1))",
                        1,
                        16,
                        "no finite lower"),
                Arguments.of(decl + bounds, 5, 1, "no output constraint"),
                Arguments.of(decl + bounds + "(assert (<= X_0 Y_0))", 5, 9, "mixes inputs"),
                Arguments.of(
                        "(declare-const X_0 Real)\n(declare-const X_1 Real)\n"
                                + "(assert (<= (+ X_0 X_1) 1))",
                        3,
                        9,
                        "combination of inputs"),
                Arguments.of(decl + bounds + "(assert (<= (* Y_0 Y_0) 1))", 5, 20, "not linear"),
                Arguments.of(decl + bounds + "(assert (<= 1 2))", 5, 9, "without variables"),
                Arguments.of(decl + bounds + "(assert (and))", 5, 9, "wrong number"),
                Arguments.of(decl + bounds + "(assert ())", 5, 9, "empty"),
                Arguments.of(decl + bounds + "(assert Y_0)", 5, 9, "expected a formula"),
                Arguments.of(decl + bounds + "(frobnicate)", 5, 2, "unknown command"),
                Arguments.of(decl + "X_0", 3, 1, "expected '('"),
                Arguments.of(
                        decl + "(assert (>= X_0 1))\n(assert (<= X_0 0))\n(assert (<= Y_0 1))",
                        4,
                        9,
                        "contradict"),
                Arguments.of("(declare-const Y_0 Real)", 1, 25, "no input declared"));
    }

    @ParameterizedTest
    @MethodSource("malformed")
    void shouldNameLineAndColumnOfMalformedInput(
            String text, int line, int column, String message) {
        assertThatThrownBy(() -> VnnlibReader.parse(text, "bad.vnnlib"))
                .isInstanceOfSatisfying(
                        VnnlibException.class,
                        e -> {
                            assertThat(e.line()).as(e.getMessage()).isEqualTo(line);
                            assertThat(e.column()).as(e.getMessage()).isEqualTo(column);
                            assertThat(e.source()).isEqualTo("bad.vnnlib");
                        })
                .hasMessageStartingWith("bad.vnnlib:" + line + ":" + column + ": ")
                .hasMessageContaining(message);
    }

    @Test
    void shouldThrowOnlyVnnlibExceptionOnRandomMutationsOfARealFile() throws IOException {
        String original = gunzip(vnnlibDir().resolve("prop_7_0.05.vnnlib.gz"));
        // The last 2,000 characters hold the output part; mutate there more often.
        String alphabet = "()();;-+.*<=>_ \n0123456789eEXYabcdr\u00e9\u0000";
        Random random = new Random(11);
        int parsed = 0;
        int rejected = 0;
        for (int trial = 0; trial < 2000; trial++) {
            StringBuilder s = new StringBuilder(original);
            int mutations = 1 + random.nextInt(3);
            for (int k = 0; k < mutations; k++) {
                int pos =
                        random.nextBoolean()
                                ? random.nextInt(s.length() + 1)
                                : Math.max(0, s.length() - 1 - random.nextInt(2000));
                switch (random.nextInt(4)) {
                    case 0 -> {
                        if (pos < s.length()) {
                            s.deleteCharAt(pos);
                        }
                    }
                    case 1 -> s.insert(pos, alphabet.charAt(random.nextInt(alphabet.length())));
                    case 2 -> s.setLength(pos);
                    default -> {
                        if (pos < s.length()) {
                            s.setCharAt(pos, alphabet.charAt(random.nextInt(alphabet.length())));
                        }
                    }
                }
            }
            try {
                VnnlibReader.parse(s.toString(), "mutant-" + trial);
                parsed++;
            } catch (VnnlibException expected) {
                assertThat(expected.line()).isPositive();
                assertThat(expected.column()).isPositive();
                rejected++;
            } catch (RuntimeException | StackOverflowError e) {
                fail("mutant " + trial + " threw " + e, e);
            }
        }
        // Both outcomes occur, so the mutations reach the parser's error paths and beyond them.
        assertThat(parsed).isPositive();
        assertThat(rejected).isPositive();
    }
}
