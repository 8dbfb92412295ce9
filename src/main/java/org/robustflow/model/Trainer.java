package org.robustflow.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.nd4j.linalg.schedule.ExponentialSchedule;
import org.nd4j.linalg.schedule.ScheduleType;
import org.robustflow.data.MnistDataset;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains an {@link Network} with softmax cross-entropy and Adam, by hand-written backprop on ND4J
 * ops.
 *
 * <p>Float32, all parameters in one flat vector with per-layer views so a single Adam updater
 * serves them all. Repeatable for a seed: the initial weights and the batch order come from {@link
 * java.util.Random}, not from ND4J's generator, and BLAS runs single-threaded (OMP_NUM_THREADS=1).
 */
public final class Trainer {
    private static final double LR_DECAY_PER_EPOCH = 0.8;

    /**
     * Hyper-parameters. {@link #defaults()} gives the 784-50-50-50-10 model the product ships with.
     */
    public record Settings(
            List<Integer> hidden, int epochs, int batchSize, double learningRate, long seed) {
        public Settings {
            hidden = List.copyOf(hidden);
            if (epochs < 1 || batchSize < 1 || !(learningRate > 0)) {
                throw new IllegalArgumentException(
                        "epochs, batch size and learning rate must be positive");
            }
            for (int h : hidden) {
                if (h < 1) {
                    throw new IllegalArgumentException(
                            "hidden layer sizes must be positive: " + hidden);
                }
            }
        }

        public static Settings defaults() {
            return new Settings(List.of(50, 50, 50), 10, 128, 1e-3, 42L);
        }
    }

    /** What one epoch achieved. */
    public record EpochStats(
            int epoch,
            double meanLoss,
            double trainAccuracy,
            double testAccuracy,
            double seconds) {}

    /** Called as training goes on; both methods run on the training thread. */
    public interface Listener {
        default void onBatch(int epoch, int batch, int batchesPerEpoch) {}

        default void onEpoch(EpochStats stats) {}
    }

    private final Settings settings;

    public Trainer(Settings settings) {
        this.settings = settings;
    }

    public Network train(MnistDataset train, MnistDataset test, Listener listener) {
        int[] sizes = layerSizes(train.pixelsPerImage());
        int numLayers = sizes.length - 1;
        long numParams = 0;
        for (int l = 0; l < numLayers; l++) {
            numParams += (long) sizes[l] * sizes[l + 1] + sizes[l + 1];
        }
        INDArray params = Nd4j.create(DataType.FLOAT, 1, numParams);
        INDArray grads = Nd4j.create(DataType.FLOAT, 1, numParams);
        INDArray[] w = new INDArray[numLayers];
        INDArray[] b = new INDArray[numLayers];
        INDArray[] gw = new INDArray[numLayers];
        INDArray[] gb = new INDArray[numLayers];
        long offset = 0;
        for (int l = 0; l < numLayers; l++) {
            long wSize = (long) sizes[l] * sizes[l + 1];
            w[l] = view(params, offset, sizes[l], sizes[l + 1]);
            gw[l] = view(grads, offset, sizes[l], sizes[l + 1]);
            offset += wSize;
            b[l] = view(params, offset, 1, sizes[l + 1]);
            gb[l] = view(grads, offset, 1, sizes[l + 1]);
            offset += sizes[l + 1];
        }
        initialise(w, sizes, new Random(settings.seed()));

        // Decaying the step size by 0.8 per epoch settles the last epochs (accuracy no longer
        // wobbles by ~0.3%).
        Adam adam =
                new Adam(
                        new ExponentialSchedule(
                                ScheduleType.EPOCH, settings.learningRate(), LR_DECAY_PER_EPOCH));
        GradientUpdater<?> updater =
                adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(numParams)), true);

        int n = train.size();
        int batch = settings.batchSize();
        int batchesPerEpoch = (n + batch - 1) / batch;
        int pixels = train.pixelsPerImage();
        int classes = sizes[numLayers];
        float[] xBuf = new float[batch * pixels];
        INDArray[] activations = new INDArray[numLayers + 1];
        int iteration = 0;
        for (int epoch = 1; epoch <= settings.epochs(); epoch++) {
            long start = System.nanoTime();
            int[] order = shuffledIndices(n, new Random(settings.seed() * 31 + epoch));
            double lossSum = 0;
            int correct = 0;
            for (int bi = 0; bi < batchesPerEpoch; bi++) {
                int from = bi * batch;
                int size = Math.min(batch, n - from);
                float[] yBuf = new float[size * classes];
                int[] labels = new int[size];
                for (int r = 0; r < size; r++) {
                    int idx = order[from + r];
                    train.writePixels(idx, xBuf, r * pixels);
                    labels[r] = train.label(idx);
                    yBuf[r * classes + labels[r]] = 1f;
                }
                float[] xs = size == batch ? xBuf : java.util.Arrays.copyOf(xBuf, size * pixels);
                activations[0] = Nd4j.create(xs, new long[] {size, pixels}, 'c');
                for (int l = 0; l < numLayers; l++) {
                    INDArray z = activations[l].mmul(w[l]).addiRowVector(b[l]);
                    activations[l + 1] = l < numLayers - 1 ? Transforms.relu(z, false) : z;
                }
                INDArray logits = activations[numLayers];
                INDArray shifted = logits.subColumnVector(logits.max(true, 1));
                INDArray exp = Transforms.exp(shifted, true);
                INDArray sumExp = exp.sum(true, 1);
                INDArray probs = exp.diviColumnVector(sumExp);
                INDArray onehot = Nd4j.create(yBuf, new long[] {size, classes}, 'c');
                // loss = mean(log sum exp(shifted) - shifted[label])
                INDArray logSumExp = Transforms.log(sumExp, true);
                lossSum +=
                        logSumExp.sumNumber().doubleValue()
                                - shifted.mul(onehot).sumNumber().doubleValue();
                INDArray predicted = logits.argMax(1);
                for (int r = 0; r < size; r++) {
                    if (predicted.getInt(r) == labels[r]) {
                        correct++;
                    }
                }

                INDArray delta = probs.subi(onehot).divi(size);
                for (int l = numLayers - 1; l >= 0; l--) {
                    gw[l].assign(activations[l].transpose().mmul(delta));
                    gb[l].assign(delta.sum(true, 0));
                    if (l > 0) {
                        INDArray mask = activations[l].gt(0).castTo(DataType.FLOAT);
                        delta = delta.mmul(w[l].transpose()).muli(mask);
                    }
                }
                updater.applyUpdater(grads, iteration++, epoch - 1);
                params.subi(grads);
                listener.onBatch(epoch, bi + 1, batchesPerEpoch);
            }
            Network model = toMlp(w, b);
            double testAccuracy = test == null ? Double.NaN : accuracy(model, test);
            listener.onEpoch(
                    new EpochStats(
                            epoch,
                            lossSum / n,
                            (double) correct / n,
                            testAccuracy,
                            (System.nanoTime() - start) / 1e9));
        }
        return toMlp(w, b);
    }

    /** Fraction of {@code data} that {@code model} classifies correctly, batched in double. */
    public static double accuracy(Network model, MnistDataset data) {
        int correct = 0;
        int batch = 1000;
        int pixels = data.pixelsPerImage();
        for (int from = 0; from < data.size(); from += batch) {
            int size = Math.min(batch, data.size() - from);
            double[] x = new double[size * pixels];
            for (int r = 0; r < size; r++) {
                data.writePixels(from + r, x, r * pixels);
            }
            INDArray predicted =
                    model.logits(Nd4j.create(x, new long[] {size, pixels}, DataType.DOUBLE))
                            .argMax(1);
            for (int r = 0; r < size; r++) {
                if (predicted.getInt(r) == data.label(from + r)) {
                    correct++;
                }
            }
        }
        return (double) correct / data.size();
    }

    private int[] layerSizes(int inputSize) {
        int[] sizes = new int[settings.hidden().size() + 2];
        sizes[0] = inputSize;
        for (int i = 0; i < settings.hidden().size(); i++) {
            sizes[i + 1] = settings.hidden().get(i);
        }
        sizes[sizes.length - 1] = MnistDataset.NUM_CLASSES;
        return sizes;
    }

    /** A [rows, cols] view of {@code flat} from {@code offset}, failing if ND4J copied instead. */
    public static INDArray view(INDArray flat, long offset, int rows, int cols) {
        INDArray v =
                flat.get(
                                NDArrayIndex.point(0),
                                NDArrayIndex.interval(offset, offset + (long) rows * cols))
                        .reshape('c', rows, cols);
        if (!v.isView()) {
            throw new IllegalStateException(
                    "ND4J returned a copy where a parameter view was needed");
        }
        return v;
    }

    /** He-normal weights (std sqrt(2/fan_in)) from {@code random}; biases stay zero. */
    public static void initialise(INDArray[] w, int[] sizes, Random random) {
        for (int l = 0; l < w.length; l++) {
            int in = sizes[l];
            int out = sizes[l + 1];
            float[] values = new float[in * out];
            double std = Math.sqrt(2.0 / in);
            for (int k = 0; k < values.length; k++) {
                values[k] = (float) (random.nextGaussian() * std);
            }
            w[l].assign(Nd4j.create(values, new long[] {in, out}, 'c'));
        }
    }

    /** 0..n-1 in an order drawn from {@code random} (Fisher-Yates). */
    public static int[] shuffledIndices(int n, Random random) {
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** The MLP of weights {@code w[l]} ([in, out], as trained) and biases {@code b[l]}. */
    public static Network toMlp(INDArray[] w, INDArray[] b) {
        List<DenseLayer> layers = new ArrayList<>();
        for (int l = 0; l < w.length; l++) {
            // Stored [in, out] for row batches; the model keeps W as [out][in].
            double[][] weight = w[l].transpose().castTo(DataType.DOUBLE).toDoubleMatrix();
            double[] bias = b[l].castTo(DataType.DOUBLE).toDoubleVector();
            layers.add(new DenseLayer(weight, bias));
        }
        return Network.mlp(layers);
    }
}
