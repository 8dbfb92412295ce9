package org.robustflow.attack;

import org.junit.jupiter.api.Test;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class WitnessesTest {
    /** y = x0 + x1 - x2; in double 1e16 + 1 - 1e16 = 0, exactly it is 1. */
    private static final Network CANCELLING =
            Network.mlp(List.of(new DenseLayer(new double[][] {{1, 1, -1}}, new double[] {0})));

    /** Violation: y <= 0.5. */
    private static final OutputSpec Y_AT_MOST_HALF =
            new OutputSpec(1, List.of(List.of(new LinearConstraint(new double[] {1}, 0.5))));

    private static final Box WIDE = new Box(new double[] {0, 0, 0}, new double[] {2e16, 2, 2e16});

    @Test
    void shouldRejectAViolationThatOnlyRoundingShows() {
        double[] point = {1e16, 1, 1e16};
        // The plain double pass claims y = 0 <= 0.5 ...
        assertThat(CANCELLING.logits(point)[0]).isEqualTo(0.0);
        assertThat(Y_AT_MOST_HALF.isViolatedBy(CANCELLING.logits(point))).isTrue();
        // ... but exactly y = 1 > 0.5: no counterexample.
        assertThat(Witnesses.isCounterexample(CANCELLING, WIDE, Y_AT_MOST_HALF, point)).isFalse();
    }

    @Test
    void shouldAcceptAClearViolation() {
        double[] point = {0.25, 0, 0}; // y = 0.25 <= 0.5 with room to spare
        assertThat(Witnesses.isCounterexample(CANCELLING, WIDE, Y_AT_MOST_HALF, point)).isTrue();
    }

    @Test
    void shouldRejectPointsOutsideTheBoxAndTies() {
        Box small = new Box(new double[] {0, 0, 0}, new double[] {1, 1, 1});
        assertThat(
                        Witnesses.isCounterexample(
                                CANCELLING,
                                small,
                                Y_AT_MOST_HALF,
                                new double[] {0.25, 0, 1.0000001}))
                .isFalse();
        // y = 0.5 exactly: a tie is not a violation beyond rounding.
        assertThat(
                        Witnesses.isCounterexample(
                                CANCELLING, small, Y_AT_MOST_HALF, new double[] {0.5, 0, 0}))
                .isFalse();
    }

    @Test
    void shouldBoundTheForwardPassErrorFromAbove() {
        double[][] out = CANCELLING.logitsWithErrorBound(new double[] {1e16, 1, 1e16});
        // |computed - exact| = 1 must be covered.
        assertThat(out[1][0]).isGreaterThanOrEqualTo(1.0);
    }
}
