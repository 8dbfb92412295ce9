package org.robustflow.bounds;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.robustflow.model.DenseLayer;

import java.nio.DoubleBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Box bounds of y = W x + b in centre-radius form: c' = W c + b, r' = |W| r (two matrix products
 * instead of four for the lower/upper form). The products run in double on BLAS through ND4J into
 * preallocated per-thread buffers; the element-wise work runs in plain Java.
 *
 * <p><b>Soundness under rounding.</b> Any order of summation of an n-term dot product in double has an
 * error of at most gamma_n * sum |w_i x_i|, gamma_n = n u / (1 - n u), u = 2^-53 (Higham, "Accuracy and
 * Stability of Numerical Algorithms", eq. 3.5), so BLAS may sum in any order. With m = max(|lower|, |upper|)
 * element-wise (so |c| + r = m): the two products err by at most gamma_n |W| |c| + gamma_n |W| r =
 * gamma_n |W| m; computing c and r from lower/upper loses at most 3u m per input, i.e. 3u |W| m after the
 * layer; the bias addition and the final c' ± r' add a few u (|W| m + |b|). In all about (n + 6) u
 * (|W| m + |b|). The bounds are widened outward by (2n + 8) u (|W| m + |b|), about twice that, which also
 * covers the rounding of the widening itself and of the product |W| m, plus a tiny absolute term for
 * underflow: about 2e-13 of the bound's magnitude for n = 784. |W| m is a
 * third product, stacked under |W| r so that BLAS runs one call for both.
 */
final class DenseBounds implements LayerBounds {
    private static final double UNIT_ROUNDOFF = 0x1p-53;
    private static final double UNDERFLOW_GUARD = 1e-290;
    private static final int MAX_CACHED_BATCH_SIZES = 8;

    private final int in;
    private final int out;
    private final INDArray weightT;
    private final INDArray absWeightT;
    private final double[] bias;
    /** The relative error factor u (2n + 8). */
    private final double relative;
    /** |b_o| times the relative error factor, plus the underflow guard. */
    private final double[] scaledAbsBias;
    /** Preallocated ND4J operands per thread and batch size: allocating them per call costs more than the products. */
    private final ThreadLocal<Map<Integer, Buffers>> buffers = ThreadLocal.withInitial(HashMap::new);

    /** {@code radiusAndMagnitude} holds r in its first rows and m below; so does its product. */
    private record Buffers(INDArray centre, INDArray radiusAndMagnitude, INDArray outCentre, INDArray outRadiusAndError) {}

    DenseBounds(DenseLayer layer) {
        this.in = layer.inputSize();
        this.out = layer.outputSize();
        this.weightT = layer.weightT();
        this.absWeightT = Transforms.abs(weightT, true);
        this.bias = layer.biases();
        this.relative = (2.0 * in + 8.0) * UNIT_ROUNDOFF;
        this.scaledAbsBias = new double[out];
        for (int o = 0; o < out; o++) {
            scaledAbsBias[o] = Math.abs(bias[o]) * relative + UNDERFLOW_GUARD;
        }
    }

    @Override
    public Interval box(Interval input) {
        if (input.width() != in) {
            throw new IllegalArgumentException("layer takes " + in + " inputs, bounds have " + input.width());
        }
        int rows = input.rows();
        Map<Integer, Buffers> cache = buffers.get();
        if (cache.size() > MAX_CACHED_BATCH_SIZES && !cache.containsKey(rows)) {
            cache.clear(); // streaming micro-batches vary in size: keep the cache small
        }
        Buffers b = cache.computeIfAbsent(rows, r -> new Buffers(
                Nd4j.create(DataType.DOUBLE, r, in), Nd4j.create(DataType.DOUBLE, 2L * r, in),
                Nd4j.create(DataType.DOUBLE, r, out), Nd4j.create(DataType.DOUBLE, 2L * r, out)));

        double[] lower = input.lower();
        double[] upper = input.upper();
        double[] centre = new double[in];
        double[] radius = new double[in];
        double[] magnitude = new double[in];
        DoubleBuffer centreBuf = b.centre().data().asNioDouble();
        DoubleBuffer radiusBuf = b.radiusAndMagnitude().data().asNioDouble();
        int magnitudeOffset = rows * in;
        for (int r = 0; r < rows; r++) {
            int base = r * in;
            for (int k = 0; k < in; k++) {
                double lo = lower[base + k];
                double hi = upper[base + k];
                centre[k] = (lo + hi) * 0.5;
                radius[k] = (hi - lo) * 0.5;
                magnitude[k] = Math.max(Math.abs(lo), Math.abs(hi));
            }
            centreBuf.put(base, centre);
            radiusBuf.put(base, radius);
            radiusBuf.put(magnitudeOffset + base, magnitude);
        }
        b.centre().mmuli(weightT, b.outCentre());
        b.radiusAndMagnitude().mmuli(absWeightT, b.outRadiusAndError());

        double[] outCentre = new double[rows * out];
        double[] outRadiusAndError = new double[2 * rows * out];
        b.outCentre().data().asNioDouble().get(0, outCentre);
        b.outRadiusAndError().data().asNioDouble().get(0, outRadiusAndError);
        int errorOffset = rows * out;
        double[] outLower = new double[rows * out];
        double[] outUpper = new double[rows * out];
        for (int r = 0; r < rows; r++) {
            int base = r * out;
            for (int o = 0; o < out; o++) {
                double c = outCentre[base + o] + bias[o];
                double rad = outRadiusAndError[base + o]
                        + (outRadiusAndError[errorOffset + base + o] * relative + scaledAbsBias[o]);
                outLower[base + o] = c - rad;
                outUpper[base + o] = c + rad;
            }
        }
        return new Interval(outLower, outUpper, rows, out);
    }
}
