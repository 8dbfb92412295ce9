package org.robustflow.train;

import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.buffer.DataType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * One training step of {@link RobustTrainer} in float32: the natural loss, the IBP and CROWN-IBP
 * margin bounds (Gowal et al. 2018, arXiv:1810.12715; Zhang et al. 2020, arXiv:1906.06316) and the
 * gradient of kappa CE(logits) + (1 - kappa) CE(-m) with respect to every weight and bias.
 *
 * <p>The same mathematics as the ND4J reference in the tests (which is checked against finite
 * differences in double), fused: every matrix product is one single-threaded OpenBLAS {@code sgemm}
 * on preallocated direct buffers, everything else one plain Java loop. ND4J's per-op overhead (tens
 * of microseconds, ~150 ops a step) was most of a step at batch 100; here the widest products
 * (batch x 9 margin rows x 784 pixels) dominate.
 *
 * <p>The margin spec is folded into the last layer (elision); only the classes-1 rows j != y of
 * each image are bounded (the row j = y is the zero margin). CROWN-IBP back-substitutes those rows
 * through every ReLU with the IBP pre-activation bounds, upper line u(z - l)/(u - l) and the
 * adaptive lower slope (1 when u > -l, else 0). Not sound (plain float, no rounding guard):
 * certificates come from {@code bounds/}.
 *
 * <p>Reads the weights from and adds the gradient to the parameters' own buffers (float, c order,
 * as {@link RobustTrainer.Parameters} lays them out). Deterministic for single-threaded BLAS. Not
 * thread-safe; one instance per training run.
 */
final class FusedStep {
    private final int layers;
    private final int[] sizes;
    private final int classes;
    private final int specRows;
    private final int maxBatch;

    private final FloatBuffer[] w;
    private final FloatBuffer[] b;
    private final FloatBuffer[] gw;
    private final FloatBuffer[] gb;

    // Per-step buffers, sized for maxBatch.
    private final FloatBuffer x;
    private final FloatBuffer[] act;
    private final FloatBuffer[] delta;
    private final FloatBuffer[] absW;
    private final FloatBuffer[] centre;
    private final FloatBuffer[] radius;
    private final FloatBuffer[] lo;
    private final FloatBuffer[] hi;
    private final FloatBuffer zc0;
    private final FloatBuffer[] slopeLow;
    private final FloatBuffer[] slopeUp;
    private final FloatBuffer[] interceptUp;
    private final FloatBuffer specLambda;
    private final FloatBuffer[] lambdaIn;
    private final FloatBuffer[] lambdaOut;
    private final FloatBuffer wide;
    private final float[] radiusCopy;
    private final float[] specBias;
    private final float[] constant;
    private final float[] ibp;
    private final float[] crown;
    private final float[] gIbp;
    private final float[] gCrown;
    private final FloatBuffer scaledOut;
    private final FloatBuffer dOut;
    private final FloatBuffer dLambda;
    private final FloatBuffer[] dLo;
    private final FloatBuffer[] dHi;
    private final FloatBuffer[] dCentre;
    private final FloatBuffer[] dRadius;
    private final FloatBuffer dSlope;
    private final FloatBuffer dIntercept;
    private final FloatBuffer dzc;
    private final FloatBuffer dzr;
    private final FloatBuffer dzcExtra;
    private final FloatBuffer radiusProduct;
    private final FloatBuffer params;
    private final FloatBuffer grads;
    private final float[] firstMoment;
    private final float[] secondMoment;
    private double naturalLoss;

    /** Loss of a batch, clean hits, and images whose IBP margin bounds are all positive. */
    record Result(double loss, int correct, int verified) {}

    FusedStep(RobustTrainer.Parameters p, int maxBatch) {
        if (p.params.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("the fused step trains float32 parameters");
        }
        this.layers = p.w.length;
        this.sizes = new int[layers + 1];
        for (int l = 0; l < layers; l++) {
            sizes[l] = (int) p.w[l].rows();
        }
        sizes[layers] = (int) p.w[layers - 1].columns();
        this.classes = sizes[layers];
        this.specRows = classes - 1;
        this.maxBatch = maxBatch;
        params = p.params.data().asNioFloat();
        grads = p.grads.data().asNioFloat();
        firstMoment = new float[params.capacity()];
        secondMoment = new float[params.capacity()];
        zero(grads, grads.capacity());
        w = new FloatBuffer[layers];
        b = new FloatBuffer[layers];
        gw = new FloatBuffer[layers];
        gb = new FloatBuffer[layers];
        int offset = 0;
        for (int l = 0; l < layers; l++) {
            int n = sizes[l] * sizes[l + 1];
            w[l] = slice(params, offset, n);
            gw[l] = slice(grads, offset, n);
            offset += n;
            b[l] = slice(params, offset, sizes[l + 1]);
            gb[l] = slice(grads, offset, sizes[l + 1]);
            offset += sizes[l + 1];
        }
        int rows = maxBatch * specRows;
        int widest = 0;
        for (int l = 1; l <= layers; l++) {
            widest = Math.max(widest, sizes[l]);
        }
        int h = sizes[layers - 1];
        x = allocate(maxBatch * sizes[0]);
        act = new FloatBuffer[layers + 1];
        for (int l = 1; l <= layers; l++) {
            act[l] = allocate(maxBatch * sizes[l]);
        }
        delta = new FloatBuffer[] {allocate(maxBatch * widest), allocate(maxBatch * widest)};
        absW = new FloatBuffer[layers - 1];
        centre = new FloatBuffer[layers];
        radius = new FloatBuffer[layers];
        lo = new FloatBuffer[layers - 1];
        hi = new FloatBuffer[layers - 1];
        slopeLow = new FloatBuffer[layers - 1];
        slopeUp = new FloatBuffer[layers - 1];
        interceptUp = new FloatBuffer[layers - 1];
        lambdaIn = new FloatBuffer[layers - 1];
        lambdaOut = new FloatBuffer[layers - 1];
        dLo = new FloatBuffer[layers - 1];
        dHi = new FloatBuffer[layers - 1];
        dCentre = new FloatBuffer[layers];
        dRadius = new FloatBuffer[layers];
        for (int l = 0; l < layers; l++) {
            centre[l] = allocate(maxBatch * sizes[l]);
            radius[l] = allocate(maxBatch * sizes[l]);
            if (l > 0) {
                dCentre[l] = allocate(maxBatch * sizes[l]);
                dRadius[l] = allocate(maxBatch * sizes[l]);
            }
        }
        specLambda = allocate(rows * h);
        for (int l = 0; l < layers - 1; l++) {
            int n = maxBatch * sizes[l + 1];
            absW[l] = allocate(sizes[l] * sizes[l + 1]);
            lo[l] = allocate(n);
            hi[l] = allocate(n);
            slopeLow[l] = allocate(n);
            slopeUp[l] = allocate(n);
            interceptUp[l] = allocate(n);
            dLo[l] = allocate(n);
            dHi[l] = allocate(n);
            lambdaOut[l] = allocate(rows * sizes[l + 1]);
            lambdaIn[l] = l == layers - 2 ? specLambda : allocate(rows * sizes[l + 1]);
        }
        zc0 = allocate(maxBatch * sizes[1]);
        wide = allocate(rows * sizes[0]);
        radiusCopy = new float[maxBatch * sizes[0]];
        specBias = new float[rows];
        constant = new float[rows];
        ibp = new float[rows];
        crown = new float[rows];
        gIbp = new float[rows];
        gCrown = new float[rows];
        scaledOut = allocate(rows * sizes[1]);
        dOut = allocate(rows * widest);
        dLambda = allocate(rows * widest);
        dSlope = allocate(maxBatch * widest);
        dIntercept = allocate(maxBatch * widest);
        dzc = allocate(maxBatch * widest);
        dzr = allocate(maxBatch * widest);
        dzcExtra = allocate(maxBatch * sizes[1]);
        int largestWeight = 0;
        for (int l = 0; l < layers; l++) {
            largestWeight = Math.max(largestWeight, sizes[l] * sizes[l + 1]);
        }
        radiusProduct = allocate(largestWeight);
    }

    /**
     * One step on the {@code size} images in {@code pixels} (row-major, [size, inputs]) with their
     * labels: adds the gradient of the loss to the parameters' gradient buffer.
     */
    Result run(float[] pixels, int[] labels, int size, RobustTrainer.Schedule s) {
        if (size > maxBatch) {
            throw new IllegalArgumentException("batch " + size + " > " + maxBatch);
        }
        int inputs = sizes[0];
        x.put(0, pixels, 0, size * inputs);
        act[0] = x;
        double loss = 0;
        int correct = natural(size, labels, (float) s.kappa());
        loss += s.kappa() * naturalLoss;
        int verified = 0;
        if (s.kappa() < 1) {
            boolean withCrown = s.beta() > 0;
            intervals(size, (float) s.eps());
            specIbp(size, labels);
            if (withCrown) {
                crownForward(size);
            }
            // Robust loss: CE of the logits -m, m_y = 0.
            float kappa = (float) s.kappa();
            float beta = (float) s.beta();
            double robustLoss = 0;
            float scale = (1 - kappa) / size;
            for (int n = 0; n < size; n++) {
                int base = n * specRows;
                boolean all = true;
                float max = 0; // the label's logit, -m_y = 0
                for (int k = 0; k < specRows; k++) {
                    float m = margin(base + k, beta, withCrown);
                    max = Math.max(max, -m);
                    all &= ibp[base + k] > 0;
                }
                if (all) {
                    verified++;
                }
                double sum = Math.exp(-max);
                for (int k = 0; k < specRows; k++) {
                    sum += Math.exp(-margin(base + k, beta, withCrown) - max);
                }
                robustLoss += max + Math.log(sum);
                for (int k = 0; k < specRows; k++) {
                    float p = (float) (Math.exp(-margin(base + k, beta, withCrown) - max) / sum);
                    // d loss / d m_j = -(1 - kappa) p_j / size
                    float g = -scale * p;
                    gIbp[base + k] = withCrown ? g * (1 - beta) : g;
                    gCrown[base + k] = withCrown ? g * beta : 0;
                }
            }
            loss += (1 - s.kappa()) * robustLoss / size;
            backward(size, labels, withCrown, beta < 1 || !withCrown);
        }
        return new Result(loss, correct, verified);
    }

    /**
     * One Adam step (Kingma and Ba; beta1 0.9, beta2 0.999, epsilon 1e-8, as ND4J's) on the
     * parameters with the accumulated gradient, which is then cleared for the next step; {@code
     * iteration} counts from 0. In one loop: ND4J's updater, subtraction and clearing took ~1 ms a
     * step.
     */
    void adam(double learningRate, long iteration) {
        double beta1 = 0.9;
        double beta2 = 0.999;
        float epsilon = 1e-8f;
        double t = iteration + 1;
        float alpha =
                (float)
                        (learningRate
                                * Math.sqrt(1 - Math.pow(beta2, t))
                                / (1 - Math.pow(beta1, t)));
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        FloatBuffer theta = params;
        FloatBuffer g = grads;
        float[] m = firstMoment;
        float[] v = secondMoment;
        for (int k = 0; k < m.length; k++) {
            float gk = g.get(k);
            float mk = b1 * m[k] + (1 - b1) * gk;
            float vk = b2 * v[k] + (1 - b2) * gk * gk;
            m[k] = mk;
            v[k] = vk;
            theta.put(k, theta.get(k) - alpha * mk / ((float) Math.sqrt(vk) + epsilon));
            g.put(k, 0);
        }
    }

    private float margin(int row, float beta, boolean withCrown) {
        return withCrown ? beta * crown[row] + (1 - beta) * ibp[row] : ibp[row];
    }

    /** Clean hits of the current weights on {@code size} images (forward pass only). */
    int correct(float[] pixels, int[] labels, int size) {
        if (size > maxBatch) {
            throw new IllegalArgumentException("batch " + size + " > " + maxBatch);
        }
        x.put(0, pixels, 0, size * sizes[0]);
        act[0] = x;
        return natural(size, labels, 0);
    }

    /**
     * Forward and backward of kappa CE(logits) (no backward at kappa 0), the mean CE in {@link
     * #naturalLoss}; returns the clean hits.
     */
    private int natural(int size, int[] labels, float kappa) {
        for (int l = 0; l < layers; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            gemm(false, false, size, out, in, 1, act[l], w[l], 0, act[l + 1]);
            FloatBuffer z = act[l + 1];
            boolean relu = l < layers - 1;
            for (int r = 0; r < size; r++) {
                int base = r * out;
                for (int i = 0; i < out; i++) {
                    float v = z.get(base + i) + b[l].get(i);
                    z.put(base + i, relu && v < 0 ? 0 : v);
                }
            }
        }
        FloatBuffer logits = act[layers];
        FloatBuffer d = delta[0];
        int correct = 0;
        double loss = 0;
        for (int r = 0; r < size; r++) {
            int base = r * classes;
            int best = 0;
            float max = logits.get(base);
            for (int j = 1; j < classes; j++) {
                if (logits.get(base + j) > max) {
                    max = logits.get(base + j);
                    best = j;
                }
            }
            if (best == labels[r]) {
                correct++;
            }
            double sum = 0;
            for (int j = 0; j < classes; j++) {
                sum += Math.exp(logits.get(base + j) - max);
            }
            loss += Math.log(sum) - (logits.get(base + labels[r]) - max);
            for (int j = 0; j < classes; j++) {
                float p = (float) (Math.exp(logits.get(base + j) - max) / sum);
                d.put(base + j, kappa * (p - (j == labels[r] ? 1 : 0)) / size);
            }
        }
        naturalLoss = loss / size;
        if (kappa == 0) {
            return correct;
        }
        int cur = 0;
        for (int l = layers - 1; l >= 0; l--) {
            int in = sizes[l];
            int out = sizes[l + 1];
            FloatBuffer dl = delta[cur];
            gemm(true, false, in, out, size, 1, act[l], dl, 1, gw[l]);
            columnSums(dl, size, out, 1, gb[l]);
            if (l > 0) {
                FloatBuffer next = delta[1 - cur];
                gemm(false, true, size, in, out, 1, dl, w[l], 0, next);
                FloatBuffer a = act[l];
                for (int k = 0; k < size * in; k++) {
                    if (a.get(k) <= 0) {
                        next.put(k, 0);
                    }
                }
                cur = 1 - cur;
            }
        }
        return correct;
    }

    /** IBP through the hidden layers: centre, radius, pre-activation bounds and |W|. */
    private void intervals(int size, float eps) {
        int inputs = sizes[0];
        FloatBuffer c0 = centre[0];
        FloatBuffer r0 = radius[0];
        for (int k = 0; k < size * inputs; k++) {
            float v = x.get(k);
            float lower = Math.max(0f, v - eps);
            float upper = Math.min(1f, v + eps);
            c0.put(k, (upper + lower) * 0.5f);
            r0.put(k, (upper - lower) * 0.5f);
        }
        for (int l = 0; l < layers - 1; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            FloatBuffer a = absW[l];
            for (int k = 0; k < in * out; k++) {
                a.put(k, Math.abs(w[l].get(k)));
            }
            FloatBuffer zc = lo[l];
            FloatBuffer zr = hi[l];
            gemm(false, false, size, out, in, 1, centre[l], w[l], 0, zc);
            gemm(false, false, size, out, in, 1, radius[l], a, 0, zr);
            FloatBuffer cn = centre[l + 1];
            FloatBuffer rn = radius[l + 1];
            for (int r = 0; r < size; r++) {
                int base = r * out;
                for (int i = 0; i < out; i++) {
                    int k = base + i;
                    float c = zc.get(k) + b[l].get(i);
                    float rad = zr.get(k);
                    float low = c - rad;
                    float up = c + rad;
                    if (l == 0) {
                        zc0.put(k, c);
                    }
                    lo[l].put(k, low);
                    hi[l].put(k, up);
                    float reluLo = Math.max(0f, low);
                    float reluHi = Math.max(0f, up);
                    cn.put(k, (reluHi + reluLo) * 0.5f);
                    rn.put(k, (reluHi - reluLo) * 0.5f);
                }
            }
        }
    }

    /** The spec rows W_L^T (e_y - e_j), their bias, and their IBP lower bounds. */
    private void specIbp(int size, int[] labels) {
        int h = sizes[layers - 1];
        FloatBuffer last = w[layers - 1];
        FloatBuffer c = centre[layers - 1];
        FloatBuffer r = radius[layers - 1];
        for (int n = 0; n < size; n++) {
            int y = labels[n];
            for (int k = 0; k < specRows; k++) {
                int j = k < y ? k : k + 1;
                int row = n * specRows + k;
                int base = row * h;
                float bias = b[layers - 1].get(y) - b[layers - 1].get(j);
                float sum = 0;
                for (int i = 0; i < h; i++) {
                    float lambda = last.get(i * classes + y) - last.get(i * classes + j);
                    specLambda.put(base + i, lambda);
                    sum += lambda * c.get(n * h + i) - Math.abs(lambda) * r.get(n * h + i);
                }
                specBias[row] = bias;
                ibp[row] = sum + bias;
            }
        }
    }

    /** CROWN-IBP: relaxations, back-substitution of the spec rows, the input layer. */
    private void crownForward(int size) {
        int rows = size * specRows;
        for (int l = 0; l < layers - 1; l++) {
            relax(l, size);
        }
        System.arraycopy(specBias, 0, constant, 0, rows);
        for (int l = layers - 2; l >= 0; l--) {
            int width = sizes[l + 1];
            FloatBuffer in = lambdaIn[l];
            FloatBuffer out = lambdaOut[l];
            FloatBuffer low = slopeLow[l];
            FloatBuffer up = slopeUp[l];
            FloatBuffer icp = interceptUp[l];
            for (int row = 0; row < rows; row++) {
                int base = row * width;
                int image = (row / specRows) * width;
                float sum = 0;
                for (int i = 0; i < width; i++) {
                    float v = in.get(base + i);
                    float m = negative(v);
                    float sl = low.get(image + i);
                    float o = v * (sl + m * (up.get(image + i) - sl));
                    sum += m * v * icp.get(image + i);
                    out.put(base + i, o);
                    if (l > 0) {
                        sum += o * b[l].get(i);
                    }
                }
                constant[row] += sum;
            }
            if (l > 0) {
                gemm(false, true, rows, sizes[l], width, 1, out, w[l], 0, lambdaIn[l - 1]);
            }
        }
        // Input layer: lambda_0 = out_0 W_0^T, [rows, pixels]; its centre term is out_0 . zc_0
        // (the bias b_0 included), its radius term sum |lambda_0| r_0. The wide buffer keeps
        // sign(lambda_0) r_0 for the backward pass.
        int inputs = sizes[0];
        int h1 = sizes[1];
        gemm(false, true, rows, inputs, h1, 1, lambdaOut[0], w[0], 0, wide);
        // The radii from a heap array: the sweep reads them ~10-25% faster than from a direct
        // buffer.
        float[] r0 = radiusCopy;
        radius[0].get(0, r0, 0, size * inputs);
        FloatBuffer out0 = lambdaOut[0];
        FloatBuffer a = wide;
        for (int row = 0; row < rows; row++) {
            int image = row / specRows;
            crown[row] =
                    dot(out0, row * h1, zc0, image * h1, h1)
                            - signSweep(a, row * inputs, r0, image * inputs, inputs)
                            + constant[row];
        }
    }

    /**
     * Sum |a[k]| r[k] over a row, with a[k] replaced by sign(a[k]) r[k]. Without branches (the
     * signs are random) and on locals (final fields are reloaded on every access): this sweep over
     * the widest array had been a third of a CROWN-IBP step.
     */
    private static float signSweep(FloatBuffer a, int base, float[] r, int rBase, int n) {
        float s0 = 0;
        float s1 = 0;
        float s2 = 0;
        float s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            float v0 = a.get(base + i);
            float v1 = a.get(base + i + 1);
            float v2 = a.get(base + i + 2);
            float v3 = a.get(base + i + 3);
            float r0 = r[rBase + i];
            float r1 = r[rBase + i + 1];
            float r2 = r[rBase + i + 2];
            float r3 = r[rBase + i + 3];
            s0 += Math.abs(v0) * r0;
            s1 += Math.abs(v1) * r1;
            s2 += Math.abs(v2) * r2;
            s3 += Math.abs(v3) * r3;
            a.put(base + i, signTimes(v0, r0));
            a.put(base + i + 1, signTimes(v1, r1));
            a.put(base + i + 2, signTimes(v2, r2));
            a.put(base + i + 3, signTimes(v3, r3));
        }
        for (; i < n; i++) {
            float v = a.get(base + i);
            float ri = r[rBase + i];
            s0 += Math.abs(v) * ri;
            a.put(base + i, signTimes(v, ri));
        }
        return (s0 + s1) + (s2 + s3);
    }

    /**
     * 1 if v is negative (or -0), else 0, without a branch: the signs of the back-substituted
     * coefficients are random, and the branches on them were mispredicted about half the time.
     * Positive coefficients take the relaxation's lower line, negative ones its upper line.
     */
    private static float negative(float v) {
        return Float.floatToRawIntBits(v) >>> 31;
    }

    /** sign(v) r (0 for v = 0); Math.signum made the sweep five times slower. */
    private static float signTimes(float v, float r) {
        return v == 0 ? 0f : Math.copySign(r, v);
    }

    private static float dot(FloatBuffer a, int aBase, FloatBuffer b, int bBase, int n) {
        float sum = 0;
        for (int k = 0; k < n; k++) {
            sum += a.get(aBase + k) * b.get(bBase + k);
        }
        return sum;
    }

    /**
     * CROWN-IBP's relaxation of layer l: upper line u(z - l)/(u - l), lower slope 1 if u > -l else
     * 0, on unstable neurons; identity or zero on stable ones.
     */
    private void relax(int l, int size) {
        int n = size * sizes[l + 1];
        for (int k = 0; k < n; k++) {
            float low = lo[l].get(k);
            float up = hi[l].get(k);
            if (low >= 0) {
                slopeLow[l].put(k, 1);
                slopeUp[l].put(k, 1);
                interceptUp[l].put(k, 0);
            } else if (up > 0) {
                float width = up - low;
                slopeUp[l].put(k, up / width);
                interceptUp[l].put(k, -(up * low) / width);
                slopeLow[l].put(k, up + low > 0 ? 1 : 0);
            } else {
                slopeLow[l].put(k, 0);
                slopeUp[l].put(k, 0);
                interceptUp[l].put(k, 0);
            }
        }
    }

    /** Gradient of the robust loss given gIbp and gCrown per spec row. */
    private void backward(int size, int[] labels, boolean withCrown, boolean withIbp) {
        int h = sizes[layers - 1];
        int rows = size * specRows;
        for (int l = 0; l < layers - 1; l++) {
            zero(dLo[l], size * sizes[l + 1]);
            zero(dHi[l], size * sizes[l + 1]);
        }
        FloatBuffer dc = dCentre[layers - 1];
        FloatBuffer dr = dRadius[layers - 1];
        zero(dc, size * h);
        zero(dr, size * h);
        FloatBuffer gLast = gw[layers - 1];
        FloatBuffer gbLast = gb[layers - 1];
        if (withIbp) {
            FloatBuffer c = centre[layers - 1];
            FloatBuffer r = radius[layers - 1];
            for (int row = 0; row < rows; row++) {
                float g = gIbp[row];
                int n = row / specRows;
                int k = row % specRows;
                int y = labels[n];
                int j = k < y ? k : k + 1;
                int base = row * h;
                for (int i = 0; i < h; i++) {
                    float lambda = specLambda.get(base + i);
                    float ci = c.get(n * h + i);
                    float ri = r.get(n * h + i);
                    float dl = g * (ci - signTimes(lambda, ri));
                    addTo(gLast, i * classes + y, dl);
                    addTo(gLast, i * classes + j, -dl);
                    addTo(dc, n * h + i, g * lambda);
                    addTo(dr, n * h + i, -g * Math.abs(lambda));
                }
                addTo(gbLast, y, g);
                addTo(gbLast, j, -g);
            }
        }
        zero(dzcExtra, size * sizes[1]);
        if (withCrown) {
            crownBackward(size, labels);
        }
        for (int l = layers - 2; l >= 0; l--) {
            int in = sizes[l];
            int out = sizes[l + 1];
            FloatBuffer dcl = dCentre[l + 1];
            FloatBuffer drl = dRadius[l + 1];
            for (int k = 0; k < size * out; k++) {
                float dReluHi = (dcl.get(k) + drl.get(k)) * 0.5f;
                float dReluLo = (dcl.get(k) - drl.get(k)) * 0.5f;
                float dHigh = dHi[l].get(k) + (hi[l].get(k) > 0 ? dReluHi : 0);
                float dLow = dLo[l].get(k) + (lo[l].get(k) > 0 ? dReluLo : 0);
                dzc.put(k, dLow + dHigh + (l == 0 ? dzcExtra.get(k) : 0));
                dzr.put(k, dHigh - dLow);
            }
            gemm(true, false, in, out, size, 1, centre[l], dzc, 1, gw[l]);
            gemm(true, false, in, out, size, 1, radius[l], dzr, 0, radiusProduct);
            FloatBuffer g = gw[l];
            FloatBuffer weights = w[l];
            for (int k = 0; k < in * out; k++) {
                float v = weights.get(k);
                if (v != 0) {
                    addTo(g, k, v > 0 ? radiusProduct.get(k) : -radiusProduct.get(k));
                }
            }
            columnSums(dzc, size, out, 1, gb[l]);
            if (l > 0) {
                gemm(false, true, size, in, out, 1, dzc, w[l], 0, dCentre[l]);
                gemm(false, true, size, in, out, 1, dzr, absW[l], 0, dRadius[l]);
            }
        }
    }

    private void crownBackward(int size, int[] labels) {
        int rows = size * specRows;
        int inputs = sizes[0];
        int h1 = sizes[1];
        FloatBuffer out0 = lambdaOut[0];
        // bound = out_0 . zc_0 - sum |lambda_0| r_0 + constant, lambda_0 = out_0 W_0^T.
        for (int row = 0; row < rows; row++) {
            float g = gCrown[row];
            int image = row / specRows;
            for (int k = 0; k < h1; k++) {
                float v = g * out0.get(row * h1 + k);
                scaledOut.put(row * h1 + k, v);
                addTo(dzcExtra, image * h1 + k, v);
            }
        }
        // d W_0 -= S^T (g out_0), S = sign(lambda_0) r_0 in the wide buffer.
        gemm(true, false, inputs, h1, rows, -1, wide, scaledOut, 1, gw[0]);
        // d out_0 = g (zc_0 - S W_0)
        gemm(false, false, rows, h1, inputs, 1, wide, w[0], 0, dOut);
        for (int row = 0; row < rows; row++) {
            float g = gCrown[row];
            int image = row / specRows;
            for (int k = 0; k < h1; k++) {
                int idx = row * h1 + k;
                dOut.put(idx, g * (zc0.get(image * h1 + k) - dOut.get(idx)));
            }
        }
        for (int l = 0; l < layers - 1; l++) {
            relaxationBackward(l, size);
            int width = sizes[l + 1];
            if (l + 1 < layers - 1) {
                // lambdaIn[l] = lambdaOut[l+1] W_{l+1}^T; constant += lambdaOut[l+1] . b_{l+1}
                int next = sizes[l + 2];
                FloatBuffer outNext = lambdaOut[l + 1];
                gemm(true, false, width, next, rows, 1, dLambda, outNext, 1, gw[l + 1]);
                gemm(false, false, rows, next, width, 1, dLambda, w[l + 1], 0, dOut);
                FloatBuffer bias = b[l + 1];
                FloatBuffer gBias = gb[l + 1];
                for (int row = 0; row < rows; row++) {
                    float g = gCrown[row];
                    int base = row * next;
                    for (int i = 0; i < next; i++) {
                        addTo(dOut, base + i, g * bias.get(i));
                        addTo(gBias, i, g * outNext.get(base + i));
                    }
                }
            } else {
                // lambdaIn[L-2] is the spec rows W_L^T (e_y - e_j), constant b_L(e_y - e_j).
                int h = width;
                FloatBuffer gLast = gw[layers - 1];
                FloatBuffer gbLast = gb[layers - 1];
                for (int row = 0; row < rows; row++) {
                    int n = row / specRows;
                    int k = row % specRows;
                    int y = labels[n];
                    int j = k < y ? k : k + 1;
                    int base = row * h;
                    for (int i = 0; i < h; i++) {
                        float d = dLambda.get(base + i);
                        addTo(gLast, i * classes + y, d);
                        addTo(gLast, i * classes + j, -d);
                    }
                    addTo(gbLast, y, gCrown[row]);
                    addTo(gbLast, j, -gCrown[row]);
                }
            }
        }
    }

    /**
     * From dOut to dLambda through out = in+ slopeLow + in- slopeUp, constant += in- . interceptUp,
     * adding the relaxation's own gradient to the bounds of layer l: on unstable neurons a =
     * u/(u-l), c = -ul/(u-l), da/du = -l/(u-l)^2, da/dl = u/(u-l)^2, dc/du = l^2/(u-l)^2, dc/dl =
     * -u^2/(u-l)^2; the lower slope is a step function (no gradient).
     */
    private void relaxationBackward(int l, int size) {
        int width = sizes[l + 1];
        FloatBuffer in = lambdaIn[l];
        FloatBuffer low = slopeLow[l];
        FloatBuffer up = slopeUp[l];
        FloatBuffer icp = interceptUp[l];
        // Image by image, neuron by neuron over the image's spec rows: the slope and intercept
        // gradients of a neuron add up in registers.
        for (int n = 0; n < size; n++) {
            int image = n * width;
            int firstRow = n * specRows;
            for (int i = 0; i < width; i++) {
                float sl = low.get(image + i);
                float su = up.get(image + i);
                float ic = icp.get(image + i);
                float ds = 0;
                float di = 0;
                for (int k = 0; k < specRows; k++) {
                    int idx = (firstRow + k) * width + i;
                    float g = gCrown[firstRow + k];
                    float v = in.get(idx);
                    float d = dOut.get(idx);
                    float m = negative(v);
                    float neg = m * v;
                    dLambda.put(idx, d * (sl + m * (su - sl)) + m * g * ic);
                    ds += d * neg;
                    di += g * neg;
                }
                dSlope.put(image + i, ds);
                dIntercept.put(image + i, di);
            }
        }
        for (int k = 0; k < size * width; k++) {
            float lower = lo[l].get(k);
            float upper = hi[l].get(k);
            if (lower < 0 && upper > 0) {
                float wdt = upper - lower;
                float inv2 = 1 / (wdt * wdt);
                float ds = dSlope.get(k);
                float di = dIntercept.get(k);
                addTo(dHi[l], k, (-lower * ds + lower * lower * di) * inv2);
                addTo(dLo[l], k, (upper * ds - upper * upper * di) * inv2);
            }
        }
    }

    private static void addTo(FloatBuffer buffer, int k, float v) {
        buffer.put(k, buffer.get(k) + v);
    }

    private static void zero(FloatBuffer buffer, int n) {
        for (int k = 0; k < n; k++) {
            buffer.put(k, 0);
        }
    }

    /** target[i] += scale * sum over rows of m[r, i], m [rows, cols]. */
    private static void columnSums(
            FloatBuffer m, int rows, int cols, float scale, FloatBuffer target) {
        for (int i = 0; i < cols; i++) {
            float sum = 0;
            for (int r = 0; r < rows; r++) {
                sum += m.get(r * cols + i);
            }
            addTo(target, i, scale * sum);
        }
    }

    /** c = alpha op(a) op(b) + beta c, row-major, op(a) [m, k], op(b) [k, n]. */
    private static void gemm(
            boolean transA,
            boolean transB,
            int m,
            int n,
            int k,
            float alpha,
            FloatBuffer a,
            FloatBuffer bm,
            float beta,
            FloatBuffer c) {
        openblas_nolapack.cblas_sgemm(
                openblas_nolapack.CblasRowMajor,
                transA ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                transB ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans,
                m,
                n,
                k,
                alpha,
                a,
                transA ? m : k,
                bm,
                transB ? k : n,
                beta,
                c,
                n);
    }

    private static FloatBuffer allocate(int n) {
        return ByteBuffer.allocateDirect(Math.max(1, n) * Float.BYTES)
                .order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    private static FloatBuffer slice(FloatBuffer buffer, int offset, int length) {
        return buffer.duplicate().position(offset).limit(offset + length).slice();
    }
}
