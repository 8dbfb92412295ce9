package org.robustflow.bounds;

import java.util.Arrays;

/**
 * The ReLU split decisions of one subdomain in branch and bound: for the output of layer i (the
 * input of a ReLU), neuron k is either free, forced active (z &gt;= 0) or forced inactive (z &lt;=
 * 0). The bounds intersect each neuron's interval with its decision, which makes its relaxation
 * exact; an empty intersection proves the subdomain has no point. Immutable.
 */
public final class Splits {
    /** No decision anywhere: the whole input box. */
    public static final Splits NONE = new Splits(new byte[0][], 0);

    /** signs[layer][neuron]: +1 active, -1 inactive, 0 free; null rows for untouched layers. */
    private final byte[][] signs;

    private final int count;

    private Splits(byte[][] signs, int count) {
        this.signs = signs;
        this.count = count;
    }

    /** A copy with neuron {@code neuron} of layer {@code layer}'s output forced to {@code sign}. */
    public Splits with(int layer, int neuron, int width, int sign) {
        if (sign != 1 && sign != -1) {
            throw new IllegalArgumentException("sign must be +1 or -1, got " + sign);
        }
        byte[][] copy = Arrays.copyOf(signs, Math.max(signs.length, layer + 1));
        byte[] row = copy[layer] == null ? new byte[width] : copy[layer].clone();
        boolean fresh = row[neuron] == 0;
        row[neuron] = (byte) sign;
        copy[layer] = row;
        return new Splits(copy, count + (fresh ? 1 : 0));
    }

    /** +1, -1 or 0 for neuron {@code neuron} of layer {@code layer}'s output. */
    public int sign(int layer, int neuron) {
        return layer < signs.length && signs[layer] != null ? signs[layer][neuron] : 0;
    }

    /** Number of decided neurons. */
    public int count() {
        return count;
    }

    /**
     * Intersects row {@code query} of layer {@code layer}'s output bounds with the decisions;
     * returns false when some interval becomes empty (the subdomain has no point).
     */
    boolean clamp(int layer, Interval bounds, int query) {
        if (layer >= signs.length || signs[layer] == null) {
            return true;
        }
        byte[] row = signs[layer];
        double[] lo = bounds.lower();
        double[] hi = bounds.upper();
        int base = query * bounds.width();
        boolean feasible = true;
        for (int k = 0; k < row.length; k++) {
            if (row[k] > 0) {
                lo[base + k] = Math.max(lo[base + k], 0.0);
            } else if (row[k] < 0) {
                hi[base + k] = Math.min(hi[base + k], 0.0);
            }
            feasible &= lo[base + k] <= hi[base + k];
        }
        return feasible;
    }
}
