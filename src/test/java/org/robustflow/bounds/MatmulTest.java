package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class MatmulTest {
    /** Every shape the bounds use, from one row up, against plain loops. */
    @Test
    void shouldMultiplyLikePlainLoopsForAnyRowCount() {
        Random random = new Random(1);
        int k = 50;
        int n = 37;
        double[] b = new double[k * n]; // B [k, n] row-major
        for (int i = 0; i < b.length; i++) {
            b[i] = random.nextGaussian();
        }
        INDArray bT =
                Nd4j.create(b, new long[] {k, n}, DataType.DOUBLE).transpose().dup('c'); // [n, k]
        for (int m : new int[] {1, 2, 7, 64, 300, 1}) {
            double[] a = new double[m * k];
            for (int i = 0; i < a.length; i++) {
                a[i] = random.nextGaussian();
            }
            double[] c = Matmul.multiply(a, m, bT);
            assertThat(c).hasSize(m * n);
            for (int r = 0; r < m; r++) {
                for (int j = 0; j < n; j++) {
                    double expected = 0;
                    for (int t = 0; t < k; t++) {
                        expected += a[r * k + t] * b[t * n + j];
                    }
                    assertThat(c[r * n + j]).isCloseTo(expected, within(1e-12));
                }
            }
        }
    }

    /** The raw BLAS call reads B^T's buffer as dense row-major: anything else must be refused. */
    @Test
    void shouldRefuseAnOperandItWouldReadWrongly() {
        INDArray rowMajor = Nd4j.rand(DataType.DOUBLE, 4, 3);
        double[] a = new double[2 * 3];
        assertThat(Matmul.multiply(a, 2, rowMajor)).hasSize(2 * 4);
        assertThatThrownBy(() -> Matmul.multiply(new double[2 * 4], 2, rowMajor.transpose()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dense row-major double");
        assertThatThrownBy(() -> Matmul.multiply(a, 2, rowMajor.castTo(DataType.FLOAT)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Matmul.multiply(new double[5], 2, rowMajor))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("expected 2x3");
    }
}
