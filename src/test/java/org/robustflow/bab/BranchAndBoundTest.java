package org.robustflow.bab;

import org.junit.jupiter.api.Test;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class BranchAndBoundTest {
    private static final int GRID = 401;

    /**
     * On random 2-input networks, against a 401 x 401 grid: BaB never proves a property that a grid
     * point violates and refutes such properties with re-checked witnesses, and it proves most
     * properties with room to spare, which plain CROWN (the root domain) mostly cannot.
     */
    @Test
    void shouldAgreeWithADenseGridOnSmallNetworks() {
        Random random = new Random(5);
        int clearProved = 0;
        int clearCases = 0;
        int rootProved = 0;
        int refuted = 0;
        for (int trial = 0; trial < 40; trial++) {
            Network net = Fixtures.randomMlp(100 + trial, 2, 16, 16, 2);
            double[] lo = {random.nextDouble() - 0.5, random.nextDouble() - 0.5};
            Box box = new Box(lo, new double[] {lo[0] + 0.5, lo[1] + 0.5});
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < GRID; i++) {
                for (int j = 0; j < GRID; j++) {
                    double[] x = {lo[0] + 0.5 * i / (GRID - 1), lo[1] + 0.5 * j / (GRID - 1)};
                    double[] y = net.logits(x);
                    min = Math.min(min, y[1] - y[0]);
                    max = Math.max(max, y[1] - y[0]);
                }
            }
            BranchAndBound bab = new BranchAndBound(net, BranchAndBound.Settings.defaults());
            long deadline = System.nanoTime() + 5_000_000_000L;
            // Violation y1 - y0 <= d. A grid point violates it when d >= min: never proved; a
            // little above the minimum, a region violates it, where a witness can be found.
            double violated = min + 0.02 * (max - min);
            BranchAndBound.Outcome v = bab.prove(box, List.of(constraint(violated)), deadline);
            assertThat(v.status()).isNotEqualTo(BranchAndBound.Status.PROVED);
            if (v.status() == BranchAndBound.Status.FALSIFIED) {
                refuted++;
                double[] y = net.logits(v.witness());
                assertThat(y[1] - y[0]).isLessThanOrEqualTo(violated);
                assertThat(box.contains(v.witness())).isTrue();
            }
            // Clear room below the grid minimum (10% of the range): should be provable.
            double clear = min - 0.1 * (max - min);
            BranchAndBound.Outcome o = bab.prove(box, List.of(constraint(clear)), deadline);
            clearCases++;
            if (o.status() == BranchAndBound.Status.PROVED) {
                clearProved++;
                if (o.domains() == 1) {
                    rootProved++;
                }
            }
        }
        assertThat(clearCases).isEqualTo(40);
        // Measured 34 of 40 (root alone: 5); the rest hit the 5 s limit or the subdomain budget.
        assertThat(clearProved).isGreaterThanOrEqualTo(30);
        assertThat(rootProved).isLessThan(clearProved); // the cases need splitting
        assertThat(refuted).isGreaterThanOrEqualTo(36); // measured 40 of 40
    }

    /**
     * A domain budget ends a search that needs more (measured: 5,953 subdomains to prove this pair)
     * OPEN after at most one round past the budget, and with it the outcome depends on no clock:
     * two runs, one on two threads, bound the same subdomains.
     */
    @Test
    void shouldStopAtTheDomainBudgetWithTheSameOutcomeOnEveryRun() {
        Network net = Fixtures.defaultModel();
        Box box = Box.around(Fixtures.mnistTest().pixels(11), 0.03);
        List<List<LinearConstraint>> violation =
                OutputSpec.robustness(10, Fixtures.mnistTest().label(11)).disjuncts();
        BranchAndBound.Settings budget = BranchAndBound.Settings.defaults().withMaxDomains(300);
        long deadline = System.nanoTime() + 120_000_000_000L;
        BranchAndBound.Outcome first =
                new BranchAndBound(net, budget).proveAll(box, violation, null, deadline);
        BranchAndBound.Outcome again =
                new BranchAndBound(net, budget.withThreads(2))
                        .proveAll(box, violation, null, deadline);
        assertThat(first.status()).isEqualTo(BranchAndBound.Status.OPEN);
        assertThat(first.reason()).isEqualTo("domain budget");
        assertThat(first.domains()).isBetween(300, 300 + 2 * budget.batchSize());
        assertThat(List.of(again.status(), again.domains(), again.maxDepth(), again.reason()))
                .isEqualTo(
                        List.of(first.status(), first.domains(), first.maxDepth(), first.reason()));
    }

    private static LinearConstraint constraint(double d) {
        return new LinearConstraint(new double[] {-1, 1}, d);
    }
}
