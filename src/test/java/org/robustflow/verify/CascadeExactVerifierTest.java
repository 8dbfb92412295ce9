package org.robustflow.verify;

import org.junit.jupiter.api.Test;
import org.robustflow.attack.Pgd;
import org.robustflow.attack.Witnesses;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.milp.MilpResult;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import static org.assertj.core.api.Assertions.assertThat;

class CascadeExactVerifierTest {
    /**
     * The job's exact stage on real pairs CROWN leaves open at eps 0.03: it decides some of them
     * within 3 s each, every FALSIFIED carries a witness that re-checks in the pair's box, and no
     * pair it certifies is refuted by a strong attack.
     */
    @Test
    void shouldDecidePairsCrownLeavesOpenWithoutContradictingAStrongAttack() {
        Network net = Fixtures.defaultModel();
        MnistDataset data = Fixtures.mnistTest();
        CrownPropagator crown = new CrownPropagator(net);
        CascadeExactVerifier exact = new CascadeExactVerifier(Pgd.Settings.defaults());
        assertThat(exact.method()).isEqualTo("bab");
        Pgd strong = new Pgd(net, new Pgd.Settings(200, 50, 0.1, 99L, true));
        double eps = 0.03;
        int open = 0;
        int decided = 0;
        for (int i = 0; i < 40 && open < 8; i++) {
            double[] x = data.pixels(i);
            int label = data.label(i);
            if (net.predict(x) != label) {
                continue;
            }
            Box box = Box.around(x, eps);
            CrownPropagator.RowBounds b = crown.bound(box.lower(), box.upper(), label);
            double min = Double.POSITIVE_INFINITY;
            for (double m : b.marginLower()) {
                min = Math.min(min, m);
            }
            if (min > 0) {
                continue; // CROWN certifies it
            }
            open++;
            MilpResult r = exact.verify(net, x, label, eps, b, 3_000);
            OutputSpec spec = OutputSpec.robustness(10, label);
            if (r.verdict() == Verdict.FALSIFIED) {
                decided++;
                assertThat(Witnesses.isCounterexample(net, box, spec, r.witness())).isTrue();
                assertThat(r.witnessClass()).isNotEqualTo(label);
            } else if (r.verdict() == Verdict.CERTIFIED) {
                decided++;
                assertThat(strong.attack(x, label, eps)).as("image %d", i).isEmpty();
            }
        }
        assertThat(open).isEqualTo(8);
        assertThat(decided).isGreaterThan(3);
    }
}
