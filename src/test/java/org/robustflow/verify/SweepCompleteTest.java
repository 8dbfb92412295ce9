package org.robustflow.verify;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;

class SweepCompleteTest {
    private static final double[] EPS = {0.01, 0.02, 0.03, 0.04, 0.05};

    /**
     * The complete cascade on real images: it never contradicts the incomplete run (crown + PGD),
     * decides pairs that run left open, and its verdicts are monotone in eps with every FALSIFIED
     * witness re-checking inside its own eps box (implied ones included).
     */
    @Test
    void shouldDecideMoreThanBoundsAndAttackAndStayMonotoneInEps() {
        Network net = Fixtures.defaultModel();
        MnistDataset data = Fixtures.mnistTest().head(12);
        Pgd.Settings attack = Pgd.Settings.defaults();
        Sweep.Report incomplete =
                Sweep.run(
                        new CrownCertifier(net),
                        new Cascade(net, Cascade.Settings.incomplete(attack)),
                        data,
                        EPS,
                        2,
                        6,
                        k -> {});
        Sweep.Report complete =
                Sweep.run(
                        new CrownCertifier(net),
                        new Cascade(net, Cascade.Settings.complete(attack, 2_000)),
                        data,
                        EPS,
                        2,
                        6,
                        k -> {});
        int newlyDecided = 0;
        int implied = 0;
        for (int i = 0; i < data.size(); i++) {
            Decision[] before = incomplete.results()[i];
            Decision[] after = complete.results()[i];
            double largestCertified = -1;
            double smallestFalsified = Double.POSITIVE_INFINITY;
            for (int e = 0; e < EPS.length; e++) {
                Verdict v = after[e].verdict();
                if (before[e].verdict() == Verdict.CERTIFIED
                        || before[e].verdict() == Verdict.MISCLASSIFIED) {
                    assertThat(v).isEqualTo(before[e].verdict());
                }
                if (before[e].verdict() == Verdict.FALSIFIED) {
                    // Some witness refutes it; which one may differ (a smaller eps's).
                    assertThat(v).isEqualTo(Verdict.FALSIFIED);
                }
                if (before[e].verdict() == Verdict.UNKNOWN && v.isDecided()) {
                    newlyDecided++;
                }
                if (after[e].method().contains("@")) {
                    implied++;
                }
                if (v == Verdict.CERTIFIED) {
                    largestCertified = Math.max(largestCertified, EPS[e]);
                }
                if (v == Verdict.FALSIFIED) {
                    smallestFalsified = Math.min(smallestFalsified, EPS[e]);
                    Box box = Box.around(data.pixels(i), EPS[e]);
                    OutputSpec spec = OutputSpec.robustness(10, data.label(i));
                    assertThat(Witnesses.isCounterexample(net, box, spec, after[e].witness()))
                            .as("image %d eps %s", i, EPS[e])
                            .isTrue();
                }
            }
            assertThat(largestCertified)
                    .as("image %d: a certified eps above a falsified one", i)
                    .isLessThan(smallestFalsified);
        }
        assertThat(newlyDecided).isGreaterThan(0);
        assertThat(implied).isGreaterThan(0);
    }
}
