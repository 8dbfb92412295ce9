package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.data.MnistDataset;

import java.math.BigDecimal;
import java.math.MathContext;

import static org.assertj.core.api.Assertions.assertThat;

/** The input box against the exact box [max(0, p/255 - eps), min(1, p/255 + eps)]. */
class InputBoxTest {
    private static final double[] EPS = {
        0, 1e-4, 0.0005, 0.001, 0.002, 0.003, 0.007, 0.01, 0.02, 0.03, 0.05, 0.1, 0.3, 1.0 / 3, 0.5
    };

    @Test
    void shouldContainTheExactBoxOfEveryPixelValueAtEveryEps() {
        BigDecimal b255 = BigDecimal.valueOf(255);
        int strictlyOutside = 0;
        for (int p = 0; p < 256; p++) {
            // The pixel as the data layer computes it; the exact value is p/255, not that double.
            double[] x = MnistDataset.scale(new byte[] {(byte) p});
            for (double eps : EPS) {
                double[][] box = InputBox.of(x, eps);
                BigDecimal e = new BigDecimal(eps);
                // Compare 255 * bound with p -/+ 255 eps: exact, no division.
                BigDecimal exactLower255 = BigDecimal.valueOf(p).subtract(b255.multiply(e));
                BigDecimal exactUpper255 = BigDecimal.valueOf(p).add(b255.multiply(e));
                BigDecimal lower255 = b255.multiply(new BigDecimal(box[0][0]));
                BigDecimal upper255 = b255.multiply(new BigDecimal(box[1][0]));
                assertThat(box[0][0] == 0 || lower255.compareTo(exactLower255) <= 0)
                        .as("lower bound %s for p=%d eps=%s", box[0][0], p, eps)
                        .isTrue();
                assertThat(box[1][0] == 1 || upper255.compareTo(exactUpper255) >= 0)
                        .as("upper bound %s for p=%d eps=%s", box[1][0], p, eps)
                        .isTrue();
                assertThat(box[0][0]).isGreaterThanOrEqualTo(0);
                assertThat(box[1][0]).isLessThanOrEqualTo(1);
                // Widened by far less than anything that changes a verdict.
                BigDecimal slack =
                        exactLower255.subtract(lower255).divide(b255, MathContext.DECIMAL64);
                if (box[0][0] > 0) {
                    assertThat(slack.doubleValue()).isLessThan(1e-13);
                    strictlyOutside += slack.signum() > 0 ? 1 : 0;
                }
            }
        }
        assertThat(strictlyOutside).as("rows whose lower bound lies strictly outside").isPositive();
    }

    @Test
    void shouldRejectNegativeEps() {
        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> InputBox.of(new double[] {0.5}, -0.01))
                .hasMessageContaining("eps must be >= 0");
    }
}
