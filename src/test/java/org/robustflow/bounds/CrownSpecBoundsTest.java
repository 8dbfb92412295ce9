package org.robustflow.bounds;

import org.junit.jupiter.api.Test;
import org.robustflow.model.ElementwiseAffineLayer;
import org.robustflow.model.Layer;
import org.robustflow.model.Network;
import org.robustflow.spec.LinearConstraint;
import org.robustflow.spec.OutputSpec;
import org.robustflow.testutils.Fixtures;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class CrownSpecBoundsTest {
    @Test
    void shouldHoldOnSampledPointsForRandomSpecsThroughNormalisationLayers() {
        Random random = new Random(11);
        for (int trial = 0; trial < 20; trial++) {
            Network net = normalisedNet(random, 6, 12, 12, 4);
            double[] lower = new double[6];
            double[] upper = new double[6];
            for (int k = 0; k < 6; k++) {
                lower[k] = random.nextDouble();
                upper[k] = lower[k] + 0.5 * random.nextDouble();
            }
            List<List<LinearConstraint>> disjuncts = new ArrayList<>();
            for (int d = 0; d < 3; d++) {
                double[] c = new double[4];
                for (int j = 0; j < 4; j++) {
                    c[j] = random.nextGaussian();
                }
                disjuncts.add(List.of(new LinearConstraint(c, random.nextGaussian())));
            }
            OutputSpec spec = new OutputSpec(4, disjuncts);
            CrownPropagator.SpecBounds b = new CrownPropagator(net).bound(lower, upper, spec);
            double slackest = Double.POSITIVE_INFINITY;
            for (int s = 0; s < 3000; s++) {
                double[] x = new double[6];
                for (int k = 0; k < 6; k++) {
                    // corners half the time: where linear bounds are tight
                    x[k] =
                            s % 2 == 0
                                    ? (random.nextBoolean() ? lower[k] : upper[k])
                                    : lower[k] + random.nextDouble() * (upper[k] - lower[k]);
                }
                double[] y = net.logits(x);
                for (int q = 0; q < b.rows().size(); q++) {
                    double value = b.rows().get(q).bound() - b.rows().get(q).slack(y);
                    assertThat(value).isGreaterThanOrEqualTo(b.rowLower()[q]);
                    slackest = Math.min(slackest, value - b.rowLower()[q]);
                }
            }
            assertThat(slackest).isLessThan(1.0); // not vacuous
        }
    }

    @Test
    void shouldGiveTheMarginBoundsAsSpecRowsOnRealImages() {
        Network net = Fixtures.defaultModel();
        CrownPropagator crown = new CrownPropagator(net);
        double[] x = Fixtures.mnistTest().pixels(0);
        int label = Fixtures.mnistTest().label(0);
        double[][] box = InputBox.of(x, 0.02);
        CrownPropagator.RowBounds margins = crown.bound(box[0], box[1], label);
        CrownPropagator.SpecBounds spec =
                crown.bound(box[0], box[1], OutputSpec.robustness(10, label));
        int q = 0;
        for (int j = 0; j < 10; j++) {
            if (j != label) {
                assertThat(spec.rowLower()[q++]).isEqualTo(margins.marginLower()[j]);
            }
        }
    }

    /** A random MLP behind a random normalisation layer (x - mean) / std. */
    private static Network normalisedNet(Random random, int... widths) {
        List<Layer> layers = new ArrayList<>();
        double[] scale = new double[widths[0]];
        double[] shift = new double[widths[0]];
        for (int k = 0; k < scale.length; k++) {
            scale[k] = 1 / (0.2 + random.nextDouble());
            shift[k] = -random.nextDouble() * scale[k];
        }
        layers.add(new ElementwiseAffineLayer(scale, shift));
        layers.addAll(Fixtures.randomMlp(random.nextLong(), widths).layers());
        return new Network(layers);
    }
}
