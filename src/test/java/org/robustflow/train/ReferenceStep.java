package org.robustflow.train;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The reference training step on ND4J, in any data type: the natural loss by backprop through the
 * forward pass, the robust loss through {@link MarginBounds}. Checked against finite differences in
 * double ({@code MarginBoundsTest}); {@link FusedStep}, which trains, is checked against it.
 */
final class ReferenceStep {
    private ReferenceStep() {}

    /** Loss of a batch, clean hits, and images whose IBP margin bounds are all positive. */
    record Step(double loss, int correct, int verified) {}

    /**
     * One step's loss, with its gradient added to {@code p.grads}: the natural part by backprop
     * through the forward pass, the robust part through {@link MarginBounds}.
     */
    static Step step(
            RobustTrainer.Parameters p,
            MarginBounds bounds,
            INDArray x,
            int[] labels,
            RobustTrainer.Schedule s) {
        int layers = p.w.length;
        int size = (int) x.rows();
        int classes = (int) p.w[layers - 1].columns();
        INDArray onehot = Nd4j.zeros(x.dataType(), size, classes);
        for (int r = 0; r < size; r++) {
            onehot.putScalar(r, labels[r], 1.0);
        }
        INDArray[] activations = new INDArray[layers + 1];
        activations[0] = x;
        for (int l = 0; l < layers; l++) {
            INDArray z = activations[l].mmul(p.w[l]).addiRowVector(p.b[l]);
            activations[l + 1] = l < layers - 1 ? Transforms.relu(z, false) : z;
        }
        INDArray logits = activations[layers];
        INDArray predicted = logits.argMax(1);
        int correct = 0;
        for (int r = 0; r < size; r++) {
            if (predicted.getInt(r) == labels[r]) {
                correct++;
            }
        }
        double loss = 0;
        if (s.kappa() > 0) {
            Softmax natural = Softmax.of(logits, onehot);
            loss += s.kappa() * natural.loss();
            INDArray delta = natural.gradient().muli(s.kappa());
            for (int l = layers - 1; l >= 0; l--) {
                p.gw[l].addi(activations[l].transpose().mmul(delta));
                p.gb[l].addi(delta.sum(true, 0));
                if (l > 0) {
                    delta =
                            delta.mmul(p.w[l].transpose())
                                    .muli(activations[l].gt(0).castTo(x.dataType()));
                }
            }
        }
        int verified = 0;
        if (s.kappa() < 1) {
            boolean crown = s.beta() > 0;
            MarginBounds.Margins m = bounds.forward(x, labels, s.eps(), crown);
            INDArray margin =
                    crown ? m.crown().mul(s.beta()).addi(m.ibp().mul(1 - s.beta())) : m.ibp();
            Softmax robust = Softmax.of(margin.neg(), onehot);
            loss += (1 - s.kappa()) * robust.loss();
            // d/dm = -d/dz for z = -m
            INDArray dMargin = robust.gradient().muli(-(1 - s.kappa()));
            bounds.backward(
                    crown ? dMargin.mul(1 - s.beta()) : dMargin,
                    crown ? dMargin.mul(s.beta()) : null,
                    p.gw,
                    p.gb);
            // An image is verified when every margin bound but its own (0) is positive.
            INDArray ibp = m.ibp().add(onehot);
            INDArray minimum = ibp.min(1);
            for (int r = 0; r < size; r++) {
                if (minimum.getDouble(r) > 0) {
                    verified++;
                }
            }
        }
        return new Step(loss, correct, verified);
    }

    /** Mean softmax cross-entropy of a batch and its gradient with respect to the logits. */
    record Softmax(double loss, INDArray gradient) {
        static Softmax of(INDArray logits, INDArray onehot) {
            long size = logits.rows();
            INDArray shifted = logits.subColumnVector(logits.max(true, 1));
            INDArray exp = Transforms.exp(shifted, true);
            INDArray sumExp = exp.sum(true, 1);
            double loss =
                    (Transforms.log(sumExp, true).sumNumber().doubleValue()
                                    - shifted.mul(onehot).sumNumber().doubleValue())
                            / size;
            return new Softmax(loss, exp.diviColumnVector(sumExp).subi(onehot).divi(size));
        }
    }
}
