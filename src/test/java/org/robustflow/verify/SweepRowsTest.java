package org.robustflow.verify;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/** Rows decided on their own: a quick attack first, then the bounds, then the first attack. */
class SweepRowsTest {
    private static final double[] EPS = {0.01, 0.03, 0.06, 0.1};

    @Test
    void shouldGiveTheVerdictsOfBoundsThenAttackWhileBoundingOnlyWhatTheQuickAttackLeaves() {
        Network net = Fixtures.defaultModel();
        MnistDataset data = Fixtures.mnistTest().head(30);
        Certifier crown = new CrownCertifier(net);
        Cascade cascade = new Cascade(net, Cascade.Settings.incomplete(Pgd.Settings.defaults()));
        int n = data.size();
        double[] images = new double[n * 784];
        int[] labels = new int[n];
        int[] rowImage = new int[n * EPS.length];
        double[] rowEps = new double[n * EPS.length];
        for (int i = 0; i < n; i++) {
            data.writePixels(i, images, i * 784);
            labels[i] = data.label(i);
            for (int e = 0; e < EPS.length; e++) {
                rowImage[i * EPS.length + e] = i;
                rowEps[i * EPS.length + e] = EPS[e];
            }
        }
        Decision[] rows = Sweep.decideRows(crown, cascade, images, labels, rowImage, rowEps);
        Certifier.Result[] bounds = crown.certify(images, labels, rowImage, rowEps);
        int quick = 0;
        for (int r = 0; r < rows.length; r++) {
            int i = rowImage[r];
            double[] x = Arrays.copyOfRange(images, i * 784, (i + 1) * 784);
            Decision boundsFirst =
                    Sweep.decide(bounds[r], "crown", 0, cascade, x, labels[i], rowEps[r]);
            assertThat(rows[r].verdict())
                    .as("image %d eps %s", i, rowEps[r])
                    .isEqualTo(boundsFirst.verdict());
            if (rows[r].verdict() == Verdict.FALSIFIED) {
                assertThat(
                                Witnesses.isCounterexample(
                                        net,
                                        Box.around(x, rowEps[r]),
                                        OutputSpec.robustness(10, labels[i]),
                                        rows[r].witness()))
                        .isTrue();
            }
            if (Double.isNaN(rows[r].marginLowerBound())) {
                assertThat(rows[r].verdict()).isEqualTo(Verdict.FALSIFIED);
                assertThat(rows[r].unstableRelus()).isEqualTo(-1);
                quick++;
            }
        }
        // Most pairs at eps >= 0.06 fall to the quick attack; none of them was bounded.
        assertThat(quick).isGreaterThan(rows.length / 3);
    }
}
