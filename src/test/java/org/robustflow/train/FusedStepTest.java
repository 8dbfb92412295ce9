package org.robustflow.train;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.robustflow.model.Trainer;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The fused float step that trains computes what the ND4J reference step computes (the reference is
 * checked against finite differences in double by {@link MarginBoundsTest}): the same loss, clean
 * hits, IBP-verified images and gradient, for natural, IBP, CROWN-IBP and mixed schedules, on full
 * and partial batches.
 */
class FusedStepTest {
    private static final RobustTrainer.Schedule[] SCHEDULES = {
        new RobustTrainer.Schedule(0, 1, 1),
        new RobustTrainer.Schedule(0.08, 0.5, 1),
        new RobustTrainer.Schedule(0.1, 0.5, 0.4),
        new RobustTrainer.Schedule(0.05, 0.7, 0),
        new RobustTrainer.Schedule(0.12, 0, 0.7),
    };

    @Test
    void shouldMatchTheReferenceStepOnASmallNetwork() {
        compare(new int[] {30, 12, 10, 8, 6}, 16, 11, 1);
    }

    @Test
    void shouldMatchTheReferenceStepOnTheShippedArchitecture() {
        compare(new int[] {784, 50, 50, 50, 10}, 40, 40, 2);
    }

    private static void compare(int[] sizes, int maxBatch, int count, long seed) {
        Random random = new Random(seed);
        RobustTrainer.Parameters p = new RobustTrainer.Parameters(sizes, DataType.FLOAT);
        Trainer.initialise(p.w, sizes, random);
        for (INDArray b : p.b) {
            for (int i = 0; i < b.columns(); i++) {
                b.putScalar(0, i, 0.1 * random.nextGaussian());
            }
        }
        RobustTrainer.Parameters reference = new RobustTrainer.Parameters(sizes, DataType.DOUBLE);
        reference.params.assign(p.params.castTo(DataType.DOUBLE));
        float[] pixels = new float[count * sizes[0]];
        for (int k = 0; k < pixels.length; k++) {
            double u = random.nextDouble();
            pixels[k] = u < 0.3 ? 0 : u > 0.9 ? 1 : random.nextFloat();
        }
        int classes = sizes[sizes.length - 1];
        int[] labels = new int[count];
        for (int n = 0; n < count; n++) {
            labels[n] = random.nextInt(classes);
        }
        INDArray x = Nd4j.create(pixels, new long[] {count, sizes[0]}, 'c').castTo(DataType.DOUBLE);
        FusedStep fused = new FusedStep(p, maxBatch);
        MarginBounds bounds = new MarginBounds(reference.w, reference.b);
        for (RobustTrainer.Schedule s : SCHEDULES) {
            p.grads.assign(0);
            FusedStep.Result got = fused.run(pixels, labels, count, s);
            reference.grads.assign(0);
            ReferenceStep.Step want = ReferenceStep.step(reference, bounds, x, labels, s);
            assertThat(got.loss())
                    .as("loss, %s", s)
                    .isCloseTo(want.loss(), within(1e-4 * Math.max(1, want.loss())));
            assertThat(got.correct()).as("correct, %s", s).isEqualTo(want.correct());
            assertThat(got.verified()).as("verified, %s", s).isEqualTo(want.verified());
            double[] g = p.grads.castTo(DataType.DOUBLE).toDoubleVector();
            double[] r = reference.grads.toDoubleVector();
            double scale = 0;
            for (double v : r) {
                scale = Math.max(scale, Math.abs(v));
            }
            assertThat(scale).as("reference gradient, %s", s).isGreaterThan(1e-3);
            double worst = 0;
            for (int k = 0; k < r.length; k++) {
                worst = Math.max(worst, Math.abs(g[k] - r[k]));
            }
            assertThat(worst / scale)
                    .as("worst gradient error relative to its largest entry, %s", s)
                    .isLessThan(2e-4);
        }
    }

    @Test
    void shouldUpdateAsNd4jsAdamAndClearTheGradient() {
        int[] sizes = {12, 7, 5, 4};
        RobustTrainer.Parameters p = new RobustTrainer.Parameters(sizes, DataType.FLOAT);
        Trainer.initialise(p.w, sizes, new Random(4));
        INDArray expected = p.params.dup();
        INDArray initial = p.params.dup();
        Adam adam = new Adam(2e-3);
        GradientUpdater<?> updater =
                adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(p.count)), true);
        FusedStep fused = new FusedStep(p, 4);
        Random random = new Random(9);
        for (int iteration = 0; iteration < 3; iteration++) {
            INDArray g = Nd4j.create(DataType.FLOAT, 1, p.count);
            for (long k = 0; k < p.count; k++) {
                g.putScalar(0, k, random.nextGaussian() * (k % 3 == 0 ? 1e-3 : 1));
            }
            p.grads.assign(g);
            fused.adam(2e-3, iteration);
            updater.applyUpdater(g, iteration, 0);
            expected.subi(g);
            assertThat(p.grads.sumNumber().doubleValue()).isZero();
            assertThat(p.params.sub(expected).amaxNumber().doubleValue())
                    .as("iteration %d", iteration)
                    .isLessThan(1e-6 * expected.amaxNumber().doubleValue());
        }
        // Three steps of ~lr each: the comparison above is ~1000x finer than the updates.
        assertThat(p.params.sub(initial).amaxNumber().doubleValue()).isGreaterThan(3e-3);
    }
}
