package org.robustflow.attack;

import org.robustflow.bounds.InputBox;
import org.robustflow.model.DenseLayer;
import org.robustflow.model.Network;

import java.util.List;
import java.util.Optional;
import java.util.Random;

/**
 * Projected gradient descent on the margin loss (Madry et al. 2018, "Towards Deep Learning Models
 * Resistant to Adversarial Attacks"), searching the eps-box for a misclassified point.
 *
 * <p>Loss: logit_t - logit_y with t the strongest other class at the current point
 * (Carlini-Wagner's margin). Sign steps of {@code stepFraction * eps}, projection onto the box
 * [max(0, x-eps), min(1, x+eps)] after every step; the first restart starts at the image, the
 * others at random points of the box. Stops at the first hit. A hit is re-checked with the double
 * forward pass before it is returned: inside the box within {@link #WITNESS_TOLERANCE} and
 * classified otherwise; otherwise it is not a witness. Thread-safe: no mutable state besides the
 * per-call random generator.
 */
public final class Pgd {
    /**
     * Witnesses must lie in the box up to this (they are built inside it; this only allows for
     * rounding).
     */
    public static final double WITNESS_TOLERANCE = 1e-8;

    /** Attack strength. */
    public record Settings(int steps, int restarts, double stepFraction, long seed)
            implements java.io.Serializable {
        public static Settings defaults() {
            return new Settings(40, 3, 0.1, 7L);
        }
    }

    private final Network mlp;
    private final Settings settings;

    public Pgd(Network mlp, Settings settings) {
        this.mlp = mlp;
        this.settings = settings;
    }

    public Network model() {
        return mlp;
    }

    /** A re-checked counterexample for (x, label, eps), if the attack finds one. */
    public Optional<double[]> attack(double[] x, int label, double eps) {
        int n = x.length;
        double[] lo = new double[n];
        double[] hi = new double[n];
        for (int k = 0; k < n; k++) {
            lo[k] = Math.max(0.0, x[k] - eps);
            hi[k] = Math.min(1.0, x[k] + eps);
        }
        Random random = new Random(settings.seed() ^ Double.doubleToLongBits(eps) ^ label);
        double step = settings.stepFraction() * eps;
        for (int restart = 0; restart < settings.restarts(); restart++) {
            double[] p = x.clone();
            if (restart > 0) {
                for (int k = 0; k < n; k++) {
                    p[k] = lo[k] + random.nextDouble() * (hi[k] - lo[k]);
                }
            }
            for (int s = 0; s <= settings.steps(); s++) {
                double[] gradient = new double[n];
                if (lossGradient(p, label, gradient)) {
                    return recheck(p, x, label, eps);
                }
                if (s == settings.steps()) {
                    break;
                }
                for (int k = 0; k < n; k++) {
                    double moved = p[k] + step * Math.signum(gradient[k]);
                    p[k] = Math.min(hi[k], Math.max(lo[k], moved));
                }
            }
        }
        return Optional.empty();
    }

    private Optional<double[]> recheck(double[] p, double[] x, int label, double eps) {
        if (InputBox.contains(x, eps, p, WITNESS_TOLERANCE) && mlp.predict(p) != label) {
            return Optional.of(p);
        }
        return Optional.empty();
    }

    /**
     * Writes d(logit_t - logit_y)/dx into {@code gradient}; returns true if p is already
     * misclassified.
     */
    private boolean lossGradient(double[] p, int label, double[] gradient) {
        List<DenseLayer> layers = mlp.denseLayers();
        double[][] pre = new double[layers.size()][];
        double[] h = p;
        for (int l = 0; l < layers.size(); l++) {
            pre[l] = layers.get(l).forward(h);
            if (l < layers.size() - 1) {
                h = new double[pre[l].length];
                for (int k = 0; k < h.length; k++) {
                    h[k] = Math.max(0, pre[l][k]);
                }
            }
        }
        double[] logits = pre[layers.size() - 1];
        int target = -1;
        for (int j = 0; j < logits.length; j++) {
            if (j != label && (target < 0 || logits[j] > logits[target])) {
                target = j;
            }
        }
        if (Network.argMax(logits) != label) {
            return true;
        }
        double[] g = new double[logits.length];
        g[target] = 1;
        g[label] = -1;
        for (int l = layers.size() - 1; l >= 0; l--) {
            DenseLayer layer = layers.get(l);
            double[] down = new double[layer.inputSize()];
            for (int o = 0; o < layer.outputSize(); o++) {
                double go = g[o];
                if (go != 0) {
                    for (int i = 0; i < down.length; i++) {
                        down[i] += go * layer.weight(o, i);
                    }
                }
            }
            if (l > 0) {
                for (int i = 0; i < down.length; i++) {
                    if (pre[l - 1][i] <= 0) {
                        down[i] = 0;
                    }
                }
            }
            g = down;
        }
        System.arraycopy(g, 0, gradient, 0, gradient.length);
        return false;
    }
}
