package org.robustflow.model;

import org.junit.jupiter.api.Test;
import org.robustflow.data.MnistDataset;
import org.robustflow.testutils.Fixtures;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TrainerTest {
    @Test
    void shouldTrainDefaultModelToAtLeast97PercentTestAccuracy() {
        Network mlp = Fixtures.defaultModel();
        assertThat(mlp.architecture()).isEqualTo("784-50-50-50-10");
        assertThat(Trainer.accuracy(mlp, Fixtures.mnistTest())).isGreaterThanOrEqualTo(0.97);
    }

    @Test
    void shouldBeRepeatableForASeed() {
        MnistDataset train = Fixtures.mnistTrain().head(5_000);
        Trainer.Settings settings = new Trainer.Settings(List.of(16), 1, 100, 1e-3, 3L);
        Network first = new Trainer(settings).train(train, null, new Trainer.Listener() {});
        Network second = new Trainer(settings).train(train, null, new Trainer.Listener() {});
        Network otherSeed =
                new Trainer(new Trainer.Settings(List.of(16), 1, 100, 1e-3, 4L))
                        .train(train, null, new Trainer.Listener() {});
        assertThat(second.version()).isEqualTo(first.version());
        assertThat(otherSeed.version()).isNotEqualTo(first.version());
    }

    @Test
    void shouldReportEveryEpochAndLowerTheLoss() {
        MnistDataset train = Fixtures.mnistTrain().head(5_000);
        List<Trainer.EpochStats> epochs = new java.util.ArrayList<>();
        new Trainer(new Trainer.Settings(List.of(32), 3, 100, 1e-3, 1L))
                .train(
                        train,
                        Fixtures.mnistTest().head(1000),
                        new Trainer.Listener() {
                            @Override
                            public void onEpoch(Trainer.EpochStats stats) {
                                epochs.add(stats);
                            }
                        });
        assertThat(epochs).extracting(Trainer.EpochStats::epoch).containsExactly(1, 2, 3);
        assertThat(epochs.get(2).meanLoss()).isLessThan(epochs.get(0).meanLoss());
        assertThat(epochs.get(2).testAccuracy()).isGreaterThan(0.8);
    }
}
