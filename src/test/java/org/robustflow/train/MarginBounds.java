package org.robustflow.train;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Lower bounds of the margins z_y - z_j of a ReLU MLP over an eps-box, and their gradients with
 * respect to the weights: interval bound propagation (IBP, Gowal et al. 2018, arXiv:1810.12715) and
 * CROWN-IBP (Zhang et al. 2020, arXiv:1906.06316), for training.
 *
 * <p>Both bound the margin spec c = e_y - e_j, folded into the last layer before it is bounded
 * (Gowal et al. sec. 3, "elision"): the last layer becomes the rows of S W_L, S the spec matrix of
 * (batch x classes) rows. IBP then bounds each row over the box of the last hidden layer; CROWN-IBP
 * back-substitutes the rows through every ReLU to the input (Zhang et al. eq. 4-6), with the IBP
 * pre-activation bounds and CROWN-IBP's adaptive lower slope (1 when u > -l, else 0).
 *
 * <p>Not sound: plain floating point, no rounding guard. Training needs none; certificates come
 * from {@code bounds/}. Works in the parameters' data type (float for training, double in the
 * gradient tests). Parameters are {@code w[l]} of shape [in, out] and {@code b[l]} of shape [1,
 * out]; the pixel box is [max(0, x - eps), min(1, x + eps)] with pixels in [0, 1]. Rows of S for j
 * = y are zero, so their margin bound is 0.
 *
 * <p>Use: {@link #forward}, then {@link #backward} with dLoss/dBound, which adds the gradient to
 * {@code gw}, {@code gb}. Not thread-safe; one instance per training run.
 */
final class MarginBounds {
    private final INDArray[] w;
    private final INDArray[] b;
    private final int numLayers;
    private final int classes;
    private final DataType type;

    // Forward state for backward. Index l of lo/hi is dense layer l's pre-activation (l < L-1).
    private int batch;
    private INDArray spec;
    private INDArray expand;
    private INDArray[] centre;
    private INDArray[] radius;
    private INDArray[] absW;
    private INDArray[] lo;
    private INDArray[] hi;
    private INDArray ibpLambda;
    private boolean withCrown;
    private INDArray[] lambdaIn;
    private INDArray[] lambdaOut;
    private INDArray[] slopeLow;
    private INDArray[] slopeUp;
    private INDArray[] interceptUp;
    private INDArray[] unstable;
    private INDArray inputLambda;
    private INDArray centreProduct;

    MarginBounds(INDArray[] w, INDArray[] b) {
        this.w = w;
        this.b = b;
        this.numLayers = w.length;
        this.classes = (int) w[numLayers - 1].columns();
        this.type = w[0].dataType();
    }

    /** Margin lower bounds of one batch: IBP, and CROWN-IBP if asked (else null). */
    record Margins(INDArray ibp, INDArray crown) {}

    /**
     * Bounds of the margins of each image {@code x} (rows, pixels in [0,1]) with its label over its
     * eps-box, each [batch, classes].
     */
    Margins forward(INDArray x, int[] labels, double eps, boolean crown) {
        batch = (int) x.rows();
        withCrown = crown;
        spec = specMatrix(labels);
        if (expand == null || expand.columns() != batch) {
            // Kept across batches: outside the caller's per-step workspace.
            try (MemoryWorkspace none = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                expand = expandMatrix(batch);
            }
        }
        centre = new INDArray[numLayers];
        radius = new INDArray[numLayers];
        absW = new INDArray[numLayers];
        lo = new INDArray[numLayers - 1];
        hi = new INDArray[numLayers - 1];
        INDArray lower = Transforms.max(x.sub(eps), 0.0, false);
        INDArray upper = Transforms.min(x.add(eps), 1.0, false);
        centre[0] = upper.add(lower).muli(0.5);
        radius[0] = upper.sub(lower).muli(0.5);
        for (int l = 0; l < numLayers - 1; l++) {
            absW[l] = Transforms.abs(w[l], true);
            INDArray zc = centre[l].mmul(w[l]).addiRowVector(b[l]);
            INDArray zr = radius[l].mmul(absW[l]);
            lo[l] = zc.sub(zr);
            hi[l] = zc.addi(zr);
            INDArray reluLo = Transforms.relu(lo[l], true);
            INDArray reluHi = Transforms.relu(hi[l], true);
            centre[l + 1] = reluHi.add(reluLo).muli(0.5);
            radius[l + 1] = reluHi.subi(reluLo).muli(0.5);
        }
        // Spec folded into the last layer: row (n, j) is W_L^T (e_y - e_j), [batch*classes, h].
        INDArray last = w[numLayers - 1];
        ibpLambda = spec.mmul(last.transpose());
        INDArray specBias = spec.mmul(b[numLayers - 1].transpose());
        INDArray ibp =
                rowDot(ibpLambda, centre[numLayers - 1])
                        .subi(rowDot(Transforms.abs(ibpLambda, true), radius[numLayers - 1]))
                        .addi(specBias)
                        .reshape('c', batch, classes);
        return new Margins(ibp, crown ? crownForward(specBias) : null);
    }

    private INDArray crownForward(INDArray specBias) {
        lambdaIn = new INDArray[numLayers - 1];
        lambdaOut = new INDArray[numLayers - 1];
        slopeLow = new INDArray[numLayers - 1];
        slopeUp = new INDArray[numLayers - 1];
        interceptUp = new INDArray[numLayers - 1];
        unstable = new INDArray[numLayers - 1];
        INDArray lambda = ibpLambda;
        INDArray constant = specBias.dup();
        for (int l = numLayers - 2; l >= 0; l--) {
            relax(l);
            lambdaIn[l] = lambda;
            INDArray pos = Transforms.relu(lambda, true);
            INDArray neg = lambda.sub(pos);
            // A positive coefficient takes the lower line, a negative one the upper line.
            INDArray out = scaleRows(pos, slopeLow[l]).addi(scaleRows(neg.dup(), slopeUp[l]));
            constant.addi(rowDot(neg, interceptUp[l]));
            lambdaOut[l] = out;
            constant.addi(out.mmul(b[l].transpose()));
            if (l > 0) {
                lambda = out.mmul(w[l].transpose());
            }
        }
        // The input layer, where rows are [batch*classes, pixels]: the centre term is
        // lambda_1 . (W_1^T c), so only |lambda_0| . r needs the wide product.
        centreProduct = centre[0].mmul(w[0]);
        inputLambda = Nd4j.gemm(lambdaOut[0], w[0], false, true);
        return rowDot(lambdaOut[0], centreProduct)
                .subi(absRowDot(inputLambda, radius[0]))
                .addi(constant)
                .reshape('c', batch, classes);
    }

    /**
     * CROWN-IBP's ReLU relaxation of layer l from its IBP bounds: upper line u(z - l)/(u - l) and
     * lower line a z, a = 1 if u > -l else 0, on unstable neurons; identity or zero on stable ones.
     */
    private void relax(int l) {
        INDArray active = lo[l].gte(0.0).castTo(type);
        INDArray open = lo[l].lt(0.0).castTo(type).muli(hi[l].gt(0.0).castTo(type));
        // Non-negative everywhere and >= 1 off the unstable set, so the division is safe.
        INDArray denominator = hi[l].sub(lo[l]).addi(open.rsub(1.0));
        unstable[l] = open;
        slopeUp[l] = hi[l].mul(open).divi(denominator).addi(active);
        interceptUp[l] = hi[l].mul(lo[l]).muli(open).divi(denominator).negi();
        slopeLow[l] = hi[l].add(lo[l]).gt(0.0).castTo(type).muli(open).addi(active);
    }

    /**
     * Adds d(loss)/d(weights) to {@code gw}, {@code gb} given d(loss)/d(margin bounds) of the last
     * {@link #forward}, each [batch, classes]; {@code dCrown} must be null if CROWN was not
     * computed.
     */
    void backward(INDArray dIbp, INDArray dCrown, INDArray[] gw, INDArray[] gb) {
        int lastHidden = numLayers - 1;
        INDArray[] dLo = new INDArray[numLayers - 1];
        INDArray[] dHi = new INDArray[numLayers - 1];
        for (int l = 0; l < numLayers - 1; l++) {
            dLo[l] = Nd4j.zeros(type, batch, lo[l].columns());
            dHi[l] = Nd4j.zeros(type, batch, hi[l].columns());
        }
        INDArray g = dIbp.reshape('c', (long) batch * classes, 1);
        INDArray dLambda =
                repeat(centre[lastHidden])
                        .subi(scaleRows(Transforms.sign(ibpLambda, true), radius[lastHidden]))
                        .muliColumnVector(g);
        INDArray dCentre = groupSum(ibpLambda.mulColumnVector(g));
        INDArray dRadius = groupSum(Transforms.abs(ibpLambda, true).muliColumnVector(g)).negi();
        gw[lastHidden].addi(dLambda.transpose().mmul(spec));
        gb[lastHidden].addi(g.transpose().mmul(spec));
        if (withCrown) {
            crownBackward(dCrown.reshape('c', (long) batch * classes, 1), dLo, dHi, gw, gb);
        }
        for (int l = numLayers - 2; l >= 0; l--) {
            INDArray dReluHi = dCentre.add(dRadius).muli(0.5);
            INDArray dReluLo = dCentre.sub(dRadius).muli(0.5);
            dHi[l].addi(dReluHi.muli(hi[l].gt(0.0).castTo(type)));
            dLo[l].addi(dReluLo.muli(lo[l].gt(0.0).castTo(type)));
            INDArray dzc = dLo[l].add(dHi[l]);
            INDArray dzr = dHi[l].sub(dLo[l]);
            gw[l].addi(centre[l].transpose().mmul(dzc));
            gw[l].addi(radius[l].transpose().mmul(dzr).muli(Transforms.sign(w[l], true)));
            gb[l].addi(dzc.sum(true, 0));
            if (l > 0) {
                dCentre = dzc.mmul(w[l].transpose());
                dRadius = dzr.mmul(absW[l].transpose());
            }
        }
    }

    private void crownBackward(
            INDArray g, INDArray[] dLo, INDArray[] dHi, INDArray[] gw, INDArray[] gb) {
        // d/d lambda_0 = g (c - sign(lambda_0) r) = g c - e; e overwrites lambda_0.
        INDArray e = signTimesRadius(inputLambda, radius[0], g);
        INDArray g1 = groupSum(lambdaOut[0].mulColumnVector(g));
        gw[0].addi(centre[0].transpose().mmul(g1)).subi(Nd4j.gemm(e, lambdaOut[0], true, false));
        gb[0].addi(g.transpose().mmul(lambdaOut[0]));
        INDArray dOut0 =
                repeat(centreProduct).muliColumnVector(g).subi(e.mmul(w[0])).addi(g.mmul(b[0]));
        INDArray dLambda = relaxationBackward(0, dOut0, g, dLo[0], dHi[0]);
        for (int l = 1; l < numLayers - 1; l++) {
            // lambda_next = out W_l^T, constant += out b_l^T
            gw[l].addi(dLambda.transpose().mmul(lambdaOut[l]));
            gb[l].addi(g.transpose().mmul(lambdaOut[l]));
            INDArray dOut = dLambda.mmul(w[l]).addi(g.mmul(b[l]));
            dLambda = relaxationBackward(l, dOut, g, dLo[l], dHi[l]);
        }
        gw[numLayers - 1].addi(dLambda.transpose().mmul(spec));
        gb[numLayers - 1].addi(g.transpose().mmul(spec));
    }

    /**
     * From d/d(out) to d/d(lambda) through out = pos * slopeLow + neg * slopeUp, constant +=
     * rowDot(neg, interceptUp), adding the relaxation's own gradient to the bounds of layer l.
     */
    private INDArray relaxationBackward(
            int l, INDArray dOut, INDArray g, INDArray dLower, INDArray dUpper) {
        INDArray in = lambdaIn[l];
        INDArray positive = in.gte(0.0).castTo(type);
        INDArray negative = positive.rsub(1.0);
        INDArray neg = in.mul(negative);
        INDArray dSlopeUp = groupSum(dOut.mul(neg));
        INDArray dIntercept = groupSum(neg.mulColumnVector(g));
        addRelaxationGradient(l, dSlopeUp, dIntercept, dLower, dUpper);
        INDArray dIn = scaleRows(dOut.mul(positive), slopeLow[l]);
        dIn.addi(scaleRows(dOut.muli(negative), slopeUp[l]));
        return dIn.addi(scaleRows(negative.muliColumnVector(g), interceptUp[l]));
    }

    /**
     * Chain rule through a = u/(u-l), c = -ul/(u-l) on unstable neurons: da/du = -l/(u-l)^2, da/dl
     * = u/(u-l)^2, dc/du = l^2/(u-l)^2, dc/dl = -u^2/(u-l)^2. The lower slope is a step function of
     * (l, u): no gradient.
     */
    private void addRelaxationGradient(
            int l, INDArray dSlope, INDArray dIntercept, INDArray dLower, INDArray dUpper) {
        INDArray open = unstable[l];
        INDArray width = hi[l].sub(lo[l]).addi(open.rsub(1.0));
        INDArray inv2 = width.muli(width).rdivi(1.0).muli(open);
        dUpper.addi(lo[l].neg().muli(dSlope).addi(lo[l].mul(lo[l]).muli(dIntercept)).muli(inv2));
        dLower.addi(hi[l].mul(dSlope).subi(hi[l].mul(hi[l]).muli(dIntercept)).muli(inv2));
    }

    /** S: row n*classes + j is e_y - e_j for image n with label y (zero when j = y). */
    private INDArray specMatrix(int[] labels) {
        double[] s = new double[labels.length * classes * classes];
        for (int n = 0; n < labels.length; n++) {
            for (int j = 0; j < classes; j++) {
                if (j != labels[n]) {
                    int row = (n * classes + j) * classes;
                    s[row + labels[n]] = 1;
                    s[row + j] = -1;
                }
            }
        }
        return Nd4j.create(s, new long[] {(long) labels.length * classes, classes}, 'c')
                .castTo(type);
    }

    /**
     * Row r of {@code rows} [batch*classes, pixels] dotted with |.| against row r / classes of
     * {@code radius}: the widest product of CROWN-IBP, in one pass over the buffers.
     */
    private INDArray absRowDot(INDArray rows, INDArray r) {
        int width = (int) rows.columns();
        double[] out = new double[batch * classes];
        if (type == DataType.FLOAT) {
            java.nio.FloatBuffer a = rows.data().asNioFloat();
            float[] rv = r.data().asFloat();
            for (int row = 0; row < out.length; row++) {
                int base = row * width;
                int rBase = (row / classes) * width;
                float sum = 0;
                for (int i = 0; i < width; i++) {
                    sum += Math.abs(a.get(base + i)) * rv[rBase + i];
                }
                out[row] = sum;
            }
        } else {
            java.nio.DoubleBuffer a = rows.data().asNioDouble();
            double[] rv = r.data().asDouble();
            for (int row = 0; row < out.length; row++) {
                int base = row * width;
                int rBase = (row / classes) * width;
                double sum = 0;
                for (int i = 0; i < width; i++) {
                    sum += Math.abs(a.get(base + i)) * rv[rBase + i];
                }
                out[row] = sum;
            }
        }
        return Nd4j.create(out, new long[] {out.length, 1}, 'c').castTo(type);
    }

    /**
     * g[row] sign(rows[row, i]) r[row / classes, i], written over {@code rows} (no longer needed)
     * and returned. In place: allocating ops on these widest arrays cost ten times more.
     */
    private INDArray signTimesRadius(INDArray rows, INDArray r, INDArray g) {
        return scaleRows(Transforms.sign(rows, false), r).muliColumnVector(g);
    }

    /** {@code rows} [batch*classes, h] times its image's row of {@code perImage}, in place. */
    private INDArray scaleRows(INDArray rows, INDArray perImage) {
        INDArray view = rows.reshape('c', batch, classes, rows.columns());
        Nd4j.getExecutioner().exec(new BroadcastMulOp(view, perImage, view, 0, 2));
        return rows;
    }

    /** E: [batch*classes, batch], row n*classes + j is e_n, so E X repeats the rows of X. */
    private INDArray expandMatrix(int images) {
        double[] e = new double[images * classes * images];
        for (int row = 0; row < images * classes; row++) {
            e[row * images + row / classes] = 1;
        }
        return Nd4j.create(e, new long[] {(long) images * classes, images}, 'c').castTo(type);
    }

    /**
     * Each row of a [batch, h] array repeated once per class: [batch*classes, h]. A product with
     * the 0/1 matrix E: ND4J's repeat costs several times more.
     */
    private INDArray repeat(INDArray perImage) {
        return expand.mmul(perImage);
    }

    /** Sum over each image's class rows: [batch*classes, h] to [batch, h]. */
    private INDArray groupSum(INDArray rows) {
        return rows.reshape('c', batch, classes, rows.columns()).sum(1);
    }

    /** Row-wise dot product of [batch*classes, h] rows with their image's [batch, h] row. */
    private INDArray rowDot(INDArray rows, INDArray perImage) {
        return scaleRows(rows.dup(), perImage).sum(true, 1);
    }
}
