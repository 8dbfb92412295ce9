package org.robustflow.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.robustflow.model.Trainer;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The training bounds: they contain sampled margins (the same relaxations as the sound certifiers,
 * without rounding guards), CROWN-IBP is no looser than IBP on average, and the hand-written
 * gradients of the bounds and of the whole training loss equal central finite differences on small
 * double-precision networks.
 */
class MarginBoundsTest {
    private static final int[] SIZES = {8, 6, 5, 5, 4};

    private static RobustTrainer.Parameters network(long seed) {
        RobustTrainer.Parameters p = new RobustTrainer.Parameters(SIZES, DataType.DOUBLE);
        Random random = new Random(seed);
        Trainer.initialise(p.w, SIZES, random);
        for (INDArray b : p.b) {
            for (int i = 0; i < b.columns(); i++) {
                b.putScalar(0, i, 0.3 * random.nextGaussian());
            }
        }
        return p;
    }

    private static INDArray images(int count, Random random) {
        INDArray x = Nd4j.create(DataType.DOUBLE, count, SIZES[0]);
        for (int n = 0; n < count; n++) {
            for (int i = 0; i < SIZES[0]; i++) {
                // Some pixels at 0 or 1, so the box is clipped as MNIST's are.
                double u = random.nextDouble();
                x.putScalar(n, i, u < 0.2 ? 0 : u > 0.9 ? 1 : random.nextDouble());
            }
        }
        return x;
    }

    private static int[] labels(int count, Random random) {
        int[] labels = new int[count];
        for (int n = 0; n < count; n++) {
            labels[n] = random.nextInt(SIZES[SIZES.length - 1]);
        }
        return labels;
    }

    private static double[] logits(RobustTrainer.Parameters p, double[] x) {
        INDArray a = Nd4j.create(x, new long[] {1, x.length}, DataType.DOUBLE);
        for (int l = 0; l < p.w.length; l++) {
            a = a.mmul(p.w[l]).addiRowVector(p.b[l]);
            if (l < p.w.length - 1) {
                a = org.nd4j.linalg.ops.transforms.Transforms.relu(a, false);
            }
        }
        return a.toDoubleVector();
    }

    @Test
    void shouldContainSampledMarginsAndCrownShouldBeTighterOnAverage() {
        Random random = new Random(3);
        int count = 20;
        double eps = 0.15;
        double slack = 0;
        double gap = 0;
        for (int trial = 0; trial < 5; trial++) {
            RobustTrainer.Parameters p = network(trial);
            INDArray x = images(count, random);
            int[] labels = labels(count, random);
            MarginBounds.Margins m = new MarginBounds(p.w, p.b).forward(x, labels, eps, true);
            int classes = SIZES[SIZES.length - 1];
            for (int n = 0; n < count; n++) {
                for (int s = 0; s < 300; s++) {
                    double[] point = new double[SIZES[0]];
                    for (int i = 0; i < point.length; i++) {
                        double c = x.getDouble(n, i);
                        double lo = Math.max(0, c - eps);
                        double hi = Math.min(1, c + eps);
                        // Corners half the time: that is where the margins are smallest.
                        point[i] =
                                s % 2 == 0
                                        ? (random.nextBoolean() ? lo : hi)
                                        : lo + random.nextDouble() * (hi - lo);
                    }
                    double[] z = logits(p, point);
                    for (int j = 0; j < classes; j++) {
                        double margin = z[labels[n]] - z[j];
                        assertThat(m.ibp().getDouble(n, j)).isLessThanOrEqualTo(margin + 1e-9);
                        assertThat(m.crown().getDouble(n, j)).isLessThanOrEqualTo(margin + 1e-9);
                    }
                }
                assertThat(m.ibp().getDouble(n, labels[n])).isZero();
                for (int j = 0; j < classes; j++) {
                    slack += m.crown().getDouble(n, j) - m.ibp().getDouble(n, j);
                    gap += Math.abs(m.ibp().getDouble(n, j));
                }
            }
        }
        assertThat(slack).as("CROWN-IBP minus IBP, summed").isGreaterThan(0.05 * gap);
    }

    @Test
    void shouldMatchFiniteDifferencesOfTheBounds() {
        Random random = new Random(11);
        for (int trial = 0; trial < 2; trial++) {
            RobustTrainer.Parameters p = network(100 + trial);
            int count = 6;
            INDArray x = images(count, random);
            int[] labels = labels(count, random);
            int classes = SIZES[SIZES.length - 1];
            INDArray cIbp = Nd4j.rand(DataType.DOUBLE, count, classes).subi(0.5);
            INDArray cCrown = Nd4j.rand(DataType.DOUBLE, count, classes).subi(0.5);
            MarginBounds bounds = new MarginBounds(p.w, p.b);
            DoubleSupplier objective =
                    () -> {
                        MarginBounds.Margins m = bounds.forward(x, labels, 0.1, true);
                        return m.ibp().mul(cIbp).sumNumber().doubleValue()
                                + m.crown().mul(cCrown).sumNumber().doubleValue();
                    };
            objective.getAsDouble();
            p.grads.assign(0);
            bounds.backward(cIbp, cCrown, p.gw, p.gb);
            assertGradient(p, objective);
        }
    }

    @Test
    void shouldMatchFiniteDifferencesOfTheTrainingLoss() {
        Random random = new Random(5);
        for (RobustTrainer.Schedule s :
                new RobustTrainer.Schedule[] {
                    new RobustTrainer.Schedule(0.1, 0.5, 0.4),
                    new RobustTrainer.Schedule(0.05, 0.7, 0),
                    new RobustTrainer.Schedule(0, 1, 1)
                }) {
            RobustTrainer.Parameters p = network(7);
            int count = 8;
            INDArray x = images(count, random);
            int[] labels = labels(count, random);
            MarginBounds bounds = new MarginBounds(p.w, p.b);
            DoubleSupplier loss = () -> ReferenceStep.step(p, bounds, x, labels, s).loss();
            p.grads.assign(0);
            ReferenceStep.step(p, bounds, x, labels, s);
            assertGradient(p, loss);
        }
    }

    /** Every parameter's gradient in {@code p.grads} against a central difference of f. */
    private static void assertGradient(RobustTrainer.Parameters p, DoubleSupplier f) {
        INDArray analytic = p.grads.dup();
        double h = 1e-6;
        double worst = 0;
        for (long k = 0; k < p.count; k++) {
            double v = p.params.getDouble(0, k);
            p.params.putScalar(0, k, v + h);
            double plus = f.getAsDouble();
            p.params.putScalar(0, k, v - h);
            double minus = f.getAsDouble();
            p.params.putScalar(0, k, v);
            double numeric = (plus - minus) / (2 * h);
            double a = analytic.getDouble(0, k);
            worst = Math.max(worst, Math.abs(numeric - a) / Math.max(1e-3, Math.abs(numeric)));
        }
        assertThat(worst).as("worst relative gradient error").isLessThan(1e-4);
        // The check must be able to fail: a gradient of zeros is far off.
        assertThat(analytic.norm2Number().doubleValue()).isGreaterThan(1e-3);
    }
}
