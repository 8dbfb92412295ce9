package org.robustflow.milp;

import com.google.ortools.linearsolver.MPConstraint;
import com.google.ortools.linearsolver.MPSolver;
import com.google.ortools.linearsolver.MPVariable;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PropertySolverTest {
    private static PropertyNetwork toy() throws IOException {
        try (InputStream in = Files.newInputStream(Path.of("examples", "toy-maxpool.json"))) {
            return PropertyNetwork.read(in);
        }
    }

    @Test
    void shouldSolveTheToyNetworkTo05AtTheOrigin() throws IOException {
        PropertySolver.Result r = PropertySolver.minimize(toy(), Solvers.DEFAULT_BACKEND, 10_000);
        assertThat(r.status()).isEqualTo(MPSolver.ResultStatus.OPTIMAL);
        assertThat(r.optimum()).isCloseTo(0.5, within(1e-6));
        assertThat(r.witness().get("x1")).isCloseTo(0.0, within(1e-6));
        assertThat(r.witness().get("x2")).isCloseTo(0.0, within(1e-6));
        assertThat(r.witnessObjective()).isCloseTo(0.5, within(1e-6));
        assertThat(r.holds()).isTrue();
    }

    @Test
    void shouldKeepPointsANaiveConstantBigMCutsOff() throws IOException {
        // x7 = max(x3, x4) at x1 = 0, x2 = 1: x3 = 1, x4 = -2, so x3 - x4 = 3 exceeds a constant M
        // of 2.
        assertThat(feasibleAtZeroOne(true)).as("naive big-M = 2").isFalse();
        assertThat(feasibleAtZeroOne(false)).as("big-M from bounds").isTrue();
    }

    private static boolean feasibleAtZeroOne(boolean naive) {
        MPSolver solver = Solvers.create(Solvers.DEFAULT_BACKEND);
        try {
            Encoders enc = new Encoders(solver);
            Encoders.Bounded x1 = new Encoders.Bounded(solver.makeNumVar(0, 0, "x1"), 0, 1);
            Encoders.Bounded x2 = new Encoders.Bounded(solver.makeNumVar(1, 1, "x2"), 0, 1);
            Encoders.Bounded x3 = enc.affine(List.of(x1, x2), new double[] {1, 1}, 0, 0, 2, "x3");
            Encoders.Bounded x4 = enc.affine(List.of(x1), new double[] {1}, -2, -2, -1, "x4");
            if (naive) {
                MPVariable y = solver.makeNumVar(-10, 10, "x7");
                MPConstraint one = solver.makeConstraint(1, 1);
                for (Encoders.Bounded xi : List.of(x3, x4)) {
                    MPVariable a = solver.makeBoolVar("a" + xi.variable().name());
                    one.setCoefficient(a, 1);
                    MPConstraint ge = solver.makeConstraint(0, MPSolver.infinity());
                    ge.setCoefficient(y, 1);
                    ge.setCoefficient(xi.variable(), -1);
                    MPConstraint le = solver.makeConstraint(-MPSolver.infinity(), 2);
                    le.setCoefficient(y, 1);
                    le.setCoefficient(xi.variable(), -1);
                    le.setCoefficient(a, 2);
                }
            } else {
                enc.max(List.of(x3, x4), "x7");
            }
            MPSolver.ResultStatus status = solver.solve();
            return status == MPSolver.ResultStatus.OPTIMAL
                    || status == MPSolver.ResultStatus.FEASIBLE;
        } finally {
            solver.delete();
        }
    }

    @Test
    void shouldKeepTheReluPointsANaiveConstantBigMCutsOff() {
        // z in [-3, 3] fixed at 3: y = relu(z) = 3. With a constant M = 1, y <= M a cuts it off.
        MPSolver solver = Solvers.create(Solvers.DEFAULT_BACKEND);
        try {
            Encoders enc = new Encoders(solver);
            Encoders.Bounded z = new Encoders.Bounded(solver.makeNumVar(3, 3, "z"), -3, 3);
            Encoders.Bounded y = enc.relu(z, "y");
            MPSolver.ResultStatus status = solver.solve();
            assertThat(status).isEqualTo(MPSolver.ResultStatus.OPTIMAL);
            assertThat(y.variable().solutionValue()).isCloseTo(3.0, within(1e-6));
            assertThat(enc.binaries()).isEqualTo(1);
        } finally {
            solver.delete();
        }
        // ... and at z = -3, y = 0, which y <= z - l (1 - a) with l = -1 instead of -3 cuts off.
        solver = Solvers.create(Solvers.DEFAULT_BACKEND);
        try {
            Encoders enc = new Encoders(solver);
            Encoders.Bounded z = new Encoders.Bounded(solver.makeNumVar(-3, -3, "z"), -3, 3);
            Encoders.Bounded y = enc.relu(z, "y");
            assertThat(solver.solve()).isEqualTo(MPSolver.ResultStatus.OPTIMAL);
            assertThat(y.variable().solutionValue()).isCloseTo(0.0, within(1e-6));
        } finally {
            solver.delete();
        }
    }

    @Test
    void shouldKeepTheMaxPointsANaiveConstantBigMCutsOff() {
        // Both inputs in [-4, 4], so neither is pruned and the encoding needs its binaries. At
        // x = 4, x' = -4, y = max = 4 needs y <= x' + M with M >= 8 = u - l'; a constant M = 2 cuts
        // it off. (shouldKeepPointsANaiveConstantBigMCutsOff prunes x4 and so never reaches M.)
        MPSolver solver = Solvers.create(Solvers.DEFAULT_BACKEND);
        try {
            Encoders enc = new Encoders(solver);
            Encoders.Bounded a = new Encoders.Bounded(solver.makeNumVar(4, 4, "a"), -4, 4);
            Encoders.Bounded b = new Encoders.Bounded(solver.makeNumVar(-4, -4, "b"), -4, 4);
            Encoders.Bounded y = enc.max(List.of(a, b), "y");
            assertThat(enc.binaries()).isEqualTo(2);
            assertThat(solver.solve()).isEqualTo(MPSolver.ResultStatus.OPTIMAL);
            assertThat(y.variable().solutionValue()).isCloseTo(4.0, within(1e-6));
        } finally {
            solver.delete();
        }
    }

    /**
     * 3e10 x1 - 1e10 x2 at x1 = 0.1, x2 = 0.3 (the doubles nearest) is 2.78e-7 exactly but 0 in
     * double: the interval bounds, which become big-M constants, must still contain it.
     */
    @Test
    void shouldContainTheExactValueOfACancellingAffineNode() throws IOException {
        PropertyNetwork net =
                PropertyNetwork.read(
                        stream(
                                "{\"format\":\"milp-dag/1\",\"nodes\":["
                                        + "{\"id\":\"x1\",\"op\":\"input\",\"lower\":0.1,\"upper\":0.1},"
                                        + "{\"id\":\"x2\",\"op\":\"input\",\"lower\":0.3,\"upper\":0.3},"
                                        + "{\"id\":\"y\",\"op\":\"affine\",\"terms\":{\"x1\":3e10,\"x2\":-1e10}}],"
                                        + "\"minimize\":{\"terms\":{\"y\":1}}}"));
        double[] y = net.intervalBounds().get("y");
        java.math.BigDecimal exact =
                new java.math.BigDecimal(3e10)
                        .multiply(new java.math.BigDecimal(0.1))
                        .subtract(
                                new java.math.BigDecimal(1e10)
                                        .multiply(new java.math.BigDecimal(0.3)));
        assertThat(exact.signum()).isPositive();
        assertThat(new java.math.BigDecimal(y[0])).isLessThanOrEqualTo(exact);
        assertThat(new java.math.BigDecimal(y[1])).isGreaterThanOrEqualTo(exact);
    }

    @Test
    void shouldMatchBruteForceOnRandomTinyNetworks() throws IOException {
        Random random = new Random(5);
        for (int trial = 0; trial < 15; trial++) {
            PropertyNetwork net = PropertyNetwork.read(stream(randomNetwork(random)));
            PropertySolver.Result r = PropertySolver.minimize(net, Solvers.DEFAULT_BACKEND, 10_000);
            assertThat(r.status()).isEqualTo(MPSolver.ResultStatus.OPTIMAL);
            double gridMin = Double.POSITIVE_INFINITY;
            int steps = 100;
            for (int a = 0; a <= steps; a++) {
                for (int b = 0; b <= steps; b++) {
                    Map<String, Double> values =
                            net.evaluate(
                                    Map.of("i0", (double) a / steps, "i1", (double) b / steps));
                    gridMin = Math.min(gridMin, net.objectiveAt(values));
                }
            }
            // Nothing cut off: the MILP minimum is at most every grid value. Nothing added: it is
            // attained at a real point.
            assertThat(r.optimum()).as("trial %d", trial).isLessThanOrEqualTo(gridMin + 1e-6);
            assertThat(r.witnessObjective())
                    .as("trial %d", trial)
                    .isCloseTo(r.optimum(), within(1e-5));
        }
    }

    @Test
    void shouldNameTheFaultyNode() {
        String json =
                "{\"format\":\"milp-dag/1\",\"nodes\":[{\"id\":\"a\",\"op\":\"relu\",\"input\":\"b\"}],\"minimize\":{\"terms\":{\"a\":1}}}";
        assertThatThrownBy(() -> PropertyNetwork.read(stream(json)))
                .hasMessageContaining("'b' is not an earlier node");
    }

    /**
     * Two inputs, an affine layer of 3 with ReLU, two affine outputs, their max, minus a third
     * output.
     */
    private static String randomNetwork(Random r) {
        StringBuilder s = new StringBuilder("{\"format\":\"milp-dag/1\",\"nodes\":[");
        s.append(
                "{\"id\":\"i0\",\"op\":\"input\",\"lower\":0,\"upper\":1},{\"id\":\"i1\",\"op\":\"input\",\"lower\":0,\"upper\":1}");
        for (int k = 0; k < 3; k++) {
            s.append(
                    String.format(
                            java.util.Locale.ROOT,
                            ",{\"id\":\"z%d\",\"op\":\"affine\",\"terms\":{\"i0\":%.3f,\"i1\":%.3f},\"constant\":%.3f}",
                            k,
                            r.nextGaussian(),
                            r.nextGaussian(),
                            0.5 * r.nextGaussian()));
            s.append(String.format(",{\"id\":\"h%d\",\"op\":\"relu\",\"input\":\"z%d\"}", k, k));
        }
        for (int k = 0; k < 3; k++) {
            s.append(
                    String.format(
                            java.util.Locale.ROOT,
                            ",{\"id\":\"o%d\",\"op\":\"affine\",\"terms\":{\"h0\":%.3f,\"h1\":%.3f,\"h2\":%.3f}}",
                            k,
                            r.nextGaussian(),
                            r.nextGaussian(),
                            r.nextGaussian()));
        }
        s.append(",{\"id\":\"m\",\"op\":\"max\",\"inputs\":[\"o0\",\"o1\"]}]");
        s.append(",\"minimize\":{\"terms\":{\"m\":1,\"o2\":-1}}}");
        return s.toString();
    }

    private static InputStream stream(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }
}
