package org.robustflow.bab;

import org.junit.jupiter.api.Test;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Interval;
import org.robustflow.bounds.Splits;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class BetaCrownTest {
    /**
     * For any beta &gt;= 0 (random ones, and the optimised ones) the bound holds on every sampled
     * point of the subdomain: the box points whose pre-activations obey the split decisions.
     */
    @Test
    void shouldBoundTheRowOnTheSubdomainForAnyNonNegativeBeta() {
        Random random = new Random(3);
        int checkedPoints = 0;
        for (int trial = 0; trial < 30; trial++) {
            Network net = Fixtures.randomMlp(300 + trial, 3, 10, 10, 3);
            Box box = new Box(new double[] {-1, -1, -1}, new double[] {1, 1, 1});
            Splits splits = Splits.NONE;
            for (int s = 0; s < 4; s++) {
                int layer = random.nextBoolean() ? 0 : 2; // outputs of the two hidden dense layers
                splits = splits.with(layer, random.nextInt(10), 10, random.nextBoolean() ? 1 : -1);
            }
            double[] c = {random.nextGaussian(), random.nextGaussian(), random.nextGaussian()};
            LinearConstraint row = new LinearConstraint(c, 0);
            CrownPropagator.SpecBounds b =
                    new CrownPropagator(net)
                            .bound(
                                    new Interval(box.lower(), box.upper(), 1, 3),
                                    new OutputSpec[] {new OutputSpec(3, List.of(List.of(row)))},
                                    new Splits[] {splits})[0];
            if (b.rowLower()[0] == Double.POSITIVE_INFINITY) {
                continue; // an empty subdomain: nothing to sample
            }
            double[][] beta = new double[3][];
            beta[0] = new double[10];
            beta[2] = new double[10];
            for (int k = 0; k < 10; k++) {
                beta[0][k] = 5 * random.nextDouble();
                beta[2][k] = 5 * random.nextDouble();
            }
            BetaCrown betaCrown = new BetaCrown(net);
            double atRandomBeta =
                    betaCrown.optimise(box, b.hiddenPreActivations(), splits, row, beta, 0);
            double optimised =
                    betaCrown.optimise(box, b.hiddenPreActivations(), splits, row, beta, 50);
            for (int p = 0; p < 20_000; p++) {
                double[] x = {
                    2 * random.nextDouble() - 1,
                    2 * random.nextDouble() - 1,
                    2 * random.nextDouble() - 1
                };
                if (!obeys(net, splits, x)) {
                    continue;
                }
                checkedPoints++;
                double value = -row.slack(net.logits(x));
                assertThat(value).isGreaterThanOrEqualTo(atRandomBeta);
                assertThat(value).isGreaterThanOrEqualTo(optimised);
            }
        }
        assertThat(checkedPoints).isGreaterThan(10_000);
    }

    private static boolean obeys(Network net, Splits splits, double[] x) {
        double[] h = x;
        List<Layer> layers = net.layers();
        for (int i = 0; i < layers.size(); i++) {
            h = layers.get(i).forward(h);
            for (int k = 0; k < h.length; k++) {
                int sign = splits.sign(i, k);
                if ((sign > 0 && h[k] < 0) || (sign < 0 && h[k] > 0)) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * f = -relu(x) on x in [-1, 1] with x forced active: the subdomain minimum is -1 at x = 1, a
     * point that obeys the decision. With the Lagrangian term's sign flipped the bound would be
     * -0.5 at beta = 0.5: above the minimum.
     */
    @Test
    void shouldStayBelowTheSubdomainMinimumWhenItsMinimiserObeysTheDecision() {
        Network net =
                Network.mlp(
                        List.of(
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1}}, new double[] {0}),
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1}}, new double[] {0})));
        Box box = new Box(new double[] {-1}, new double[] {1});
        Splits active = Splits.NONE.with(0, 0, 1, 1);
        LinearConstraint row = new LinearConstraint(new double[] {-1}, -2);
        List<double[][]> reluInputs = List.<double[][]>of(new double[][] {{0}, {1}});
        double[][] beta = {{0.5}};
        double bound = new BetaCrown(net).optimise(box, reluInputs, active, row, beta, 0);
        assertThat(bound).isLessThanOrEqualTo(-1.0);
    }

    /** y = x0 + 2^60 x1 - 2^60 x2 at (1, 1, 1) is 1, but summed in that order in double it is 0. */
    @Test
    void shouldGuardTheBoundAgainstCancellation() {
        double big = 0x1p60;
        Network net =
                Network.mlp(
                        List.of(
                                new org.robustflow.model.DenseLayer(
                                        new double[][] {{1, big, -big}}, new double[] {0})));
        Box point = new Box(new double[] {1, 1, 1}, new double[] {1, 1, 1});
        LinearConstraint minusY = new LinearConstraint(new double[] {-1}, -2);
        double bound =
                new BetaCrown(net)
                        .optimise(point, List.of(), Splits.NONE, minusY, new double[0][], 0);
        assertThat(bound).isLessThanOrEqualTo(-1.0); // -y is exactly -1 here
    }
}
