package org.robustflow.model;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.robustflow.testutils.Fixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class NetworkTest {
    @Test
    void shouldComputeHandCheckedLogits() {
        // h = relu([1 -1; 2 0] x + [0; -1]), y = [1 1] h + 0.5
        Network mlp =
                Network.mlp(
                        List.of(
                                new DenseLayer(
                                        new double[][] {{1, -1}, {2, 0}}, new double[] {0, -1}),
                                new DenseLayer(new double[][] {{1, 1}}, new double[] {0.5})));
        // x = (0.25, 0.75): h = relu(-0.5, -0.5) = 0 -> 0.5; x = (1, 0): h = (1, 1) -> 2.5
        assertThat(mlp.logits(new double[] {0.25, 0.75})).containsExactly(0.5);
        assertThat(mlp.logits(new double[] {1, 0})).containsExactly(2.5);
    }

    @Test
    void shouldAgreeBetweenPlainAndBatchedForwardPass() {
        Network mlp = Fixtures.randomMlp(1, 784, 50, 50, 10);
        int n = 20;
        double[] batch = new double[n * 784];
        for (int i = 0; i < n; i++) {
            Fixtures.mnistTest().writePixels(i, batch, i * 784);
        }
        double[][] batched =
                mlp.logits(Nd4j.create(batch, new long[] {n, 784}, DataType.DOUBLE))
                        .toDoubleMatrix();
        for (int i = 0; i < n; i++) {
            double[] plain = mlp.logits(Fixtures.mnistTest().pixels(i));
            for (int k = 0; k < 10; k++) {
                assertThat(batched[i][k]).isCloseTo(plain[k], within(1e-12));
            }
        }
    }

    @Test
    void shouldVersionByWeights() {
        Network a = Fixtures.randomMlp(1, 4, 3, 2);
        Network same = Fixtures.randomMlp(1, 4, 3, 2);
        Network other = Fixtures.randomMlp(2, 4, 3, 2);
        assertThat(a.version()).isEqualTo(same.version()).startsWith("sha256:").hasSize(7 + 16);
        assertThat(other.version()).isNotEqualTo(a.version());
        assertThat(a.architecture()).isEqualTo("4-3-2");
        assertThat(a.hiddenNeurons()).isEqualTo(3);
    }

    @Test
    void shouldRejectMismatchedLayers() {
        assertThatThrownBy(
                        () ->
                                Network.mlp(
                                        List.of(
                                                new DenseLayer(
                                                        new double[][] {{1, 2}}, new double[] {0}),
                                                new DenseLayer(
                                                        new double[][] {{1, 2}},
                                                        new double[] {0}))))
                .hasMessageContaining("layer 2 takes 2 inputs but layer 1 gives 1");
    }

    @Test
    void shouldKeepTheMlpVersionAndHashOtherSequencesApart() {
        DenseLayer first =
                new DenseLayer(new double[][] {{1, -2}, {0.5, 3}}, new double[] {0.1, 0});
        DenseLayer last = new DenseLayer(new double[][] {{1, 1}}, new double[] {-1});
        Network mlp = Network.mlp(List.of(first, last));
        Network same = new Network(List.of(first, new ReluLayer(2), last));
        Network normalised =
                new Network(
                        List.of(
                                new ElementwiseAffineLayer(
                                        new double[] {2, 2}, new double[] {-1, -1}),
                                first,
                                new ReluLayer(2),
                                last));
        Network otherShift =
                new Network(
                        List.of(
                                new ElementwiseAffineLayer(
                                        new double[] {2, 2}, new double[] {-1, -0.5}),
                                first,
                                new ReluLayer(2),
                                last));

        assertThat(same.isMlp()).isTrue();
        assertThat(same.version()).isEqualTo(mlp.version());
        assertThat(normalised.isMlp()).isFalse();
        assertThat(normalised.version()).isNotEqualTo(mlp.version());
        assertThat(normalised.version()).isNotEqualTo(otherShift.version());
        assertThat(normalised.architecture()).isEqualTo("2-[affine]-2-1");
        // 2x - 1 at (0.5, 1) is (0, 1); then [-2 + 0.1, 3] -> relu [0, 3] -> 3 - 1.
        assertThat(normalised.logits(new double[] {0.5, 1})).containsExactly(2.0);
    }
}
