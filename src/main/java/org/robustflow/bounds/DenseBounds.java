package org.robustflow.bounds;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.robustflow.model.DenseLayer;

/**
 * Box bounds of y = W x + b in centre-radius form: c' = W c + b, r' = |W| r (two matrix products
 * instead of four for the lower/upper form), computed in double with ND4J.
 *
 * <p><b>Soundness under rounding.</b> Any order of summation of an n-term dot product in double has an
 * error of at most gamma_n * sum |w_i x_i|, gamma_n = n u / (1 - n u), u = 2^-53 (Higham, "Accuracy and
 * Stability of Numerical Algorithms", eq. 3.5), so BLAS may sum in any order. With M = max_k
 * max(|lower_k|, |upper_k|) per row, every error term here (the centre and radius of the input box, both
 * products, the bias and the final c' ± r') is below u * (2n + 8) * (rowsum|W| * M + |b|). The bounds are
 * widened outward by twice that, which also covers the rounding of the widening itself, plus a tiny
 * absolute term for underflow. The widening is about 3e-13 of the bound's magnitude for n = 784.
 */
final class DenseBounds implements LayerBounds {
    private static final double UNIT_ROUNDOFF = 0x1p-53;
    private static final double UNDERFLOW_GUARD = 1e-290;

    private final INDArray weightT;
    private final INDArray absWeightT;
    private final INDArray bias;
    /** Row sums of |W| as a [1, out] row, scaled by the relative error factor. */
    private final INDArray scaledAbsRowSums;
    private final INDArray scaledAbsBias;

    DenseBounds(DenseLayer layer) {
        this.weightT = layer.weightT();
        this.absWeightT = Transforms.abs(weightT, true);
        this.bias = layer.biasRow();
        double relative = 2.0 * (2.0 * layer.inputSize() + 8.0) * UNIT_ROUNDOFF;
        this.scaledAbsRowSums = absWeightT.sum(true, 0).muli(relative);
        this.scaledAbsBias = Transforms.abs(bias, true).muli(relative).addi(UNDERFLOW_GUARD);
    }

    @Override
    public Interval box(Interval in) {
        INDArray centre = in.lower().add(in.upper()).muli(0.5);
        INDArray radius = in.upper().sub(in.lower()).muli(0.5);
        INDArray magnitude = Transforms.max(Transforms.abs(in.lower(), true), Transforms.abs(in.upper(), true), false)
                .max(true, 1);

        INDArray outCentre = centre.mmul(weightT).addiRowVector(bias);
        INDArray outRadius = radius.mmul(absWeightT);
        // slack[r][o] = M_r * rowsum|W|_o * rel + |b_o| * rel + guard
        INDArray slack = magnitude.mmul(scaledAbsRowSums).addiRowVector(scaledAbsBias);
        outRadius.addi(slack);
        return new Interval(outCentre.sub(outRadius), outCentre.addi(outRadius));
    }
}
