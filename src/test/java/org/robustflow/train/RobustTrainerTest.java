package org.robustflow.train;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.BoxCertifier;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.model.Trainer;
import org.robustflow.testutils.Fixtures;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Robust training on small subsets: repeatable for a seed, the schedule as documented, and a short
 * IBP training makes a network that the sound box certifier certifies where natural training with
 * the same budget does not.
 */
class RobustTrainerTest {
    private static RobustTrainer.Settings settings(
            RobustTrainer.Method method, int epochs, long seed) {
        return new RobustTrainer.Settings(
                new Trainer.Settings(List.of(20, 20), epochs, 100, 2e-3, seed),
                method,
                0.05,
                0.06,
                1,
                2,
                0.5,
                0,
                0.8);
    }

    @Test
    void shouldBeRepeatableForASeed() {
        MnistDataset train = Fixtures.mnistTrain().head(1_000);
        RobustTrainer.Settings s = settings(RobustTrainer.Method.CROWN_IBP, 3, 3L);
        Network first = new RobustTrainer(s).train(train, null, new RobustTrainer.Listener() {});
        Network second = new RobustTrainer(s).train(train, null, new RobustTrainer.Listener() {});
        Network otherSeed =
                new RobustTrainer(settings(RobustTrainer.Method.CROWN_IBP, 3, 4L))
                        .train(train, null, new RobustTrainer.Listener() {});
        assertThat(second.version()).isEqualTo(first.version());
        assertThat(otherSeed.version()).isNotEqualTo(first.version());
    }

    @Test
    void shouldWarmUpThenRampEpsKappaAndBetaLinearly() {
        RobustTrainer trainer = new RobustTrainer(settings(RobustTrainer.Method.CROWN_IBP, 5, 1L));
        int perEpoch = 10;
        RobustTrainer.Schedule warm = trainer.schedule(9, perEpoch);
        assertThat(warm.eps()).isZero();
        assertThat(warm.kappa()).isEqualTo(1.0);
        RobustTrainer.Schedule half = trainer.schedule(19, perEpoch);
        assertThat(half.eps()).isCloseTo(0.03, within(1e-12));
        assertThat(half.kappa()).isCloseTo(0.75, within(1e-12));
        assertThat(half.beta()).isCloseTo(0.5, within(1e-12));
        RobustTrainer.Schedule end = trainer.schedule(29, perEpoch);
        assertThat(end.eps()).isCloseTo(0.06, within(1e-12));
        assertThat(end.kappa()).isCloseTo(0.5, within(1e-12));
        assertThat(end.beta()).isZero();
        assertThat(trainer.schedule(49, perEpoch)).isEqualTo(end);
        RobustTrainer ibp = new RobustTrainer(settings(RobustTrainer.Method.IBP, 5, 1L));
        assertThat(ibp.schedule(19, perEpoch).beta()).isZero();
        assertThatThrownBy(
                        () ->
                                new RobustTrainer.Settings(
                                        new Trainer.Settings(List.of(20), 2, 100, 1e-3, 1L),
                                        RobustTrainer.Method.IBP,
                                        0.1,
                                        0.1,
                                        1,
                                        2,
                                        0.5,
                                        0,
                                        1))
                .hasMessageContaining("must fit in 2 epochs");
    }

    @Test
    void shouldCertifyMoreThanNaturalTrainingWithTheSameBudget() {
        MnistDataset train = Fixtures.mnistTrain().head(6_000);
        MnistDataset test = Fixtures.mnistTest().head(500);
        List<RobustTrainer.EpochStats> epochs = new ArrayList<>();
        Network robust =
                new RobustTrainer(settings(RobustTrainer.Method.IBP, 5, 1L))
                        .train(
                                train,
                                null,
                                new RobustTrainer.Listener() {
                                    @Override
                                    public void onEpoch(RobustTrainer.EpochStats stats) {
                                        epochs.add(stats);
                                    }
                                });
        Network natural =
                new Trainer(new Trainer.Settings(List.of(20, 20), 5, 100, 2e-3, 1L))
                        .train(train, null, new Trainer.Listener() {});
        int robustCertified = certified(robust, test, 0.05);
        int naturalCertified = certified(natural, test, 0.05);
        assertThat(epochs)
                .extracting(RobustTrainer.EpochStats::epoch)
                .containsExactly(1, 2, 3, 4, 5);
        assertThat(epochs.get(4).trainVerified()).isGreaterThan(0.3);
        assertThat(Trainer.accuracy(robust, test)).isGreaterThan(0.8);
        assertThat(robustCertified).isGreaterThan(150).isGreaterThan(3 * naturalCertified);
    }

    private static int certified(Network net, MnistDataset test, double eps) {
        int pixels = test.pixelsPerImage();
        double[] images = new double[test.size() * pixels];
        int[] labels = new int[test.size()];
        int[] rowImage = new int[test.size()];
        double[] rowEps = new double[test.size()];
        for (int i = 0; i < test.size(); i++) {
            test.writePixels(i, images, i * pixels);
            labels[i] = test.label(i);
            rowImage[i] = i;
            rowEps[i] = eps;
        }
        int k = 0;
        for (Certifier.Result r : new BoxCertifier(net).certify(images, labels, rowImage, rowEps)) {
            if (r.verdict() == Verdict.CERTIFIED) {
                k++;
            }
        }
        return k;
    }
}
