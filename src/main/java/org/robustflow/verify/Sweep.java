package org.robustflow.verify;

import org.robustflow.attack.Witnesses;
import org.robustflow.bounds.BoxCertifier;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.EpsilonGrid;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Verifies a whole data set at a list of epsilons, in chunks of images spread over threads: bounds
 * first (batched), then the {@link Cascade} on the pairs they left undecided. The offline
 * counterpart of the streaming job, and the reference its results must equal.
 *
 * <p>Verdicts are monotone in eps (the box of a smaller eps lies in the box of a larger one), so
 * the cascade's answers are shared across an image's eps: a witness found at eps refutes every
 * larger eps it lies in (re-checked there), and a certificate at eps certifies every smaller one.
 * With a complete cascade, the attack runs over the open eps in ascending order and the complete
 * stages bisect what is left, so each answer settles as many eps as it can; an implied verdict
 * names its source, e.g. {@code bab@0.0500}. An incomplete cascade decides each eps on its own, as
 * the streaming job does per (image, eps), so the two give the same verdicts: a quick attack first,
 * the bounds on what it leaves, the first attack on what they leave ({@link #decideRows}).
 */
public final class Sweep {
    /** Images per bound batch; times the eps count gives the rows per call (640 for 64 x 10). */
    public static final int DEFAULT_CHUNK = 64;

    private Sweep() {}

    /** Per-(image, eps) decisions and their totals. */
    public record Report(int total, int correct, double[] eps, Decision[][] results) {
        public int count(int epsIndex, Verdict verdict) {
            int k = 0;
            for (Decision[] row : results) {
                if (row[epsIndex].verdict() == verdict) {
                    k++;
                }
            }
            return k;
        }

        public int certified(int epsIndex) {
            return count(epsIndex, Verdict.CERTIFIED);
        }

        /** certified / total: what is proven. */
        public double robustAccuracy(int epsIndex) {
            return total == 0 ? 0 : (double) certified(epsIndex) / total;
        }

        /** (total - falsified - misclassified) / total: what is not refuted. */
        public double robustAccuracyUpper(int epsIndex) {
            return total == 0
                    ? 0
                    : (double)
                                    (total
                                            - count(epsIndex, Verdict.FALSIFIED)
                                            - count(epsIndex, Verdict.MISCLASSIFIED))
                            / total;
        }
    }

    /** Box bounds only. */
    public static Report run(
            Network mlp,
            MnistDataset data,
            double[] eps,
            int threads,
            int chunk,
            IntConsumer progress) {
        return run(new BoxCertifier(mlp), null, data, eps, threads, chunk, progress);
    }

    /**
     * @param cascade run on pairs the bounds leave UNKNOWN; null for bounds only
     * @param progress told the number of images finished after each chunk (from worker threads)
     */
    public static Report run(
            Certifier certifier,
            Cascade cascade,
            MnistDataset data,
            double[] eps,
            int threads,
            int chunk,
            IntConsumer progress) {
        int n = data.size();
        int pixels = data.pixelsPerImage();
        Decision[][] results = new Decision[n][];
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                int start = from;
                int size = Math.min(chunk, n - from);
                futures.add(
                        pool.submit(
                                () -> {
                                    double[] images = new double[size * pixels];
                                    int[] labels = new int[size];
                                    for (int i = 0; i < size; i++) {
                                        data.writePixels(start + i, images, i * pixels);
                                        labels[i] = data.label(start + i);
                                    }
                                    if (cascade != null && !cascade.settings().complete()) {
                                        decideChunk(
                                                certifier, cascade, images, labels, eps, results,
                                                start);
                                        progress.accept(size);
                                        return;
                                    }
                                    long begin = System.nanoTime();
                                    Certifier.Result[][] grid =
                                            certifier.certifyGrid(images, labels, eps);
                                    long boundMicros =
                                            (System.nanoTime() - begin)
                                                    / 1000
                                                    / Math.max(1, size * eps.length);
                                    for (int i = 0; i < size; i++) {
                                        double[] x =
                                                Arrays.copyOfRange(
                                                        images, i * pixels, (i + 1) * pixels);
                                        results[start + i] =
                                                decideImage(
                                                        grid[i],
                                                        certifier.method(),
                                                        boundMicros,
                                                        cascade,
                                                        x,
                                                        labels[i],
                                                        eps);
                                    }
                                    progress.accept(size);
                                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("verification failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (results[i].length > 0 && results[i][0].predicted() == data.label(i)) {
                correct++;
            }
        }
        return new Report(n, correct, eps.clone(), results);
    }

    /** Every pair of a chunk decided on its own ({@link #decideRows}), into results[start..]. */
    private static void decideChunk(
            Certifier certifier,
            Cascade cascade,
            double[] images,
            int[] labels,
            double[] eps,
            Decision[][] results,
            int start) {
        int n = labels.length;
        Certifier.Grid grid = Certifier.Grid.of(n, eps);
        Decision[] flat =
                decideRows(certifier, cascade, images, labels, grid.rowImage(), grid.rowEps());
        for (int i = 0; i < n; i++) {
            results[start + i] = Arrays.copyOfRange(flat, i * eps.length, (i + 1) * eps.length);
        }
    }

    /**
     * One image at every eps: the bound results, and the cascade on what they left open, its
     * answers shared across eps by monotonicity.
     */
    static Decision[] decideImage(
            Certifier.Result[] bounds,
            String method,
            long boundMicros,
            Cascade cascade,
            double[] x,
            int label,
            double[] eps) {
        Decision[] row = new Decision[eps.length];
        for (int e = 0; e < eps.length; e++) {
            row[e] = fromBounds(bounds[e], method, boundMicros);
        }
        if (cascade == null) {
            return row;
        }
        Integer[] boxed = new Integer[eps.length];
        for (int e = 0; e < eps.length; e++) {
            boxed[e] = e;
        }
        Arrays.sort(boxed, (a, b) -> Double.compare(eps[a], eps[b]));
        int[] ascending = Arrays.stream(boxed).mapToInt(Integer::intValue).toArray();
        Network network = cascade.model();
        OutputSpec spec = OutputSpec.robustness(network.numClasses(), label);
        // The attack, smallest eps first: a witness refutes the larger eps it lies in.
        for (int k = 0; k < ascending.length; k++) {
            int e = ascending[k];
            if (row[e].verdict() != Verdict.UNKNOWN) {
                continue;
            }
            long start = System.nanoTime();
            Optional<double[]> witness = cascade.attack(x, label, eps[e]);
            long micros = boundMicros + (System.nanoTime() - start) / 1000;
            if (witness.isPresent()) {
                row[e] = falsified(row[e], "pgd", micros, witness.get(), network);
                if (cascade.settings().complete()) {
                    refuteLarger(row, ascending, k, x, eps, spec, network);
                }
            } else {
                row[e] = with(row[e], Verdict.UNKNOWN, row[e].method(), micros);
            }
        }
        if (cascade.settings().complete()) {
            List<Integer> open = new ArrayList<>();
            for (int e : ascending) {
                if (row[e].verdict() == Verdict.UNKNOWN) {
                    open.add(e);
                }
            }
            bisect(row, open, ascending, cascade, x, spec, eps);
        }
        return row;
    }

    /**
     * Decides the middle of {@code open} (eps indices, ascending) exactly and lets its answer
     * settle one side: certified settles the smaller eps, falsified the larger ones.
     */
    private static void bisect(
            Decision[] row,
            List<Integer> open,
            int[] ascending,
            Cascade cascade,
            double[] x,
            OutputSpec spec,
            double[] eps) {
        List<Integer> left = new ArrayList<>();
        for (int e : open) {
            if (row[e].verdict() == Verdict.UNKNOWN) {
                left.add(e); // still open: an earlier answer may have settled some
            }
        }
        if (left.isEmpty()) {
            return;
        }
        int mid = left.get(left.size() / 2);
        long start = System.nanoTime();
        Cascade.Answer a = cascade.decide(Box.around(x, eps[mid]), spec, null, true);
        long micros = row[mid].micros() + (System.nanoTime() - start) / 1000;
        Network network = cascade.model();
        if (a.verdict() == Verdict.FALSIFIED) {
            row[mid] = falsified(row[mid], a.method(), micros, a.witness(), network);
            refuteLarger(row, ascending, indexOf(ascending, mid), x, eps, spec, network);
        } else if (a.verdict() == Verdict.CERTIFIED) {
            row[mid] = with(row[mid], Verdict.CERTIFIED, a.method(), micros);
            String source = a.method() + "@" + EpsilonGrid.key(eps[mid]);
            for (int e : left) {
                if (eps[e] < eps[mid]) {
                    row[e] = with(row[e], Verdict.CERTIFIED, source, row[e].micros());
                }
            }
        } else {
            row[mid] = with(row[mid], a.verdict(), row[mid].method(), micros);
        }
        bisect(row, left.subList(0, left.size() / 2), ascending, cascade, x, spec, eps);
        bisect(
                row,
                left.subList(left.size() / 2 + 1, left.size()),
                ascending,
                cascade,
                x,
                spec,
                eps);
    }

    /** Marks open eps after position {@code k} of {@code ascending} refuted by row[k]'s witness. */
    private static void refuteLarger(
            Decision[] row,
            int[] ascending,
            int k,
            double[] x,
            double[] eps,
            OutputSpec spec,
            Network network) {
        int e = ascending[k];
        double[] witness = row[e].witness();
        String source = row[e].method() + "@" + EpsilonGrid.key(eps[e]);
        for (int j = k + 1; j < ascending.length; j++) {
            int f = ascending[j];
            // The larger box contains the witness; the re-check says so for each eps anyway.
            if (row[f].verdict() == Verdict.UNKNOWN
                    && Witnesses.isCounterexample(network, Box.around(x, eps[f]), spec, witness)) {
                row[f] = falsified(row[f], source, row[f].micros(), witness, network);
            }
        }
    }

    private static int indexOf(int[] values, int value) {
        for (int k = 0; k < values.length; k++) {
            if (values[k] == value) {
                return k;
            }
        }
        throw new IllegalArgumentException(value + " not in " + Arrays.toString(values));
    }

    private static Decision fromBounds(Certifier.Result bound, String method, long micros) {
        return new Decision(
                bound.verdict(),
                method,
                bound.predicted(),
                bound.marginLowerBound(),
                bound.unstableRelus(),
                micros,
                null,
                -1);
    }

    private static Decision with(Decision d, Verdict verdict, String method, long micros) {
        return new Decision(
                verdict,
                method,
                d.predicted(),
                d.marginLowerBound(),
                d.unstableRelus(),
                micros,
                null,
                -1);
    }

    private static Decision falsified(
            Decision d, String method, long micros, double[] witness, Network network) {
        return new Decision(
                Verdict.FALSIFIED,
                method,
                d.predicted(),
                d.marginLowerBound(),
                d.unstableRelus(),
                micros,
                witness,
                network.predict(witness));
    }

    /**
     * Decides rows (image {@code rowImage[r]}, eps {@code rowEps[r]}) each on its own: a quick
     * attack first, the bounds (one engine call) on what it leaves, then the cascade's first attack
     * on what the bounds leave. A pair the quick attack refutes is never bounded: its decision has
     * no margin (NaN) and no unstable count (-1). Each decision's time counts its quick attack.
     *
     * @param cascade null for bounds only
     */
    public static Decision[] decideRows(
            Certifier certifier,
            Cascade cascade,
            double[] images,
            int[] labels,
            int[] rowImage,
            double[] rowEps) {
        Network network = certifier.model();
        int pixels = network.inputSize();
        int rows = rowImage.length;
        Decision[] decided = new Decision[rows];
        int[] predicted = Certifier.predict(network, images, labels.length);
        int[] open = new int[rows];
        long[] quickMicros = new long[rows];
        int opened = 0;
        for (int r = 0; r < rows; r++) {
            int image = rowImage[r];
            if (cascade != null && predicted[image] == labels[image]) {
                double[] x = Arrays.copyOfRange(images, image * pixels, (image + 1) * pixels);
                long start = System.nanoTime();
                Optional<double[]> witness = cascade.quickAttack(x, labels[image], rowEps[r]);
                quickMicros[r] = (System.nanoTime() - start) / 1000;
                if (witness.isPresent()) {
                    decided[r] =
                            new Decision(
                                    Verdict.FALSIFIED,
                                    "pgd",
                                    predicted[image],
                                    Double.NaN,
                                    -1,
                                    quickMicros[r],
                                    witness.get(),
                                    network.predict(witness.get()));
                    continue;
                }
            }
            open[opened++] = r;
        }
        if (opened == 0) {
            return decided;
        }
        int[] openImage = new int[opened];
        double[] openEps = new double[opened];
        for (int j = 0; j < opened; j++) {
            openImage[j] = rowImage[open[j]];
            openEps[j] = rowEps[open[j]];
        }
        long start = System.nanoTime();
        Certifier.Result[] bounds =
                certifier.certify(images, labels, predicted, openImage, openEps);
        long boundMicros = (System.nanoTime() - start) / 1000 / opened;
        for (int j = 0; j < opened; j++) {
            int image = openImage[j];
            decided[open[j]] =
                    decide(
                            bounds[j],
                            certifier.method(),
                            boundMicros + quickMicros[open[j]],
                            cascade,
                            Arrays.copyOfRange(images, image * pixels, (image + 1) * pixels),
                            labels[image],
                            openEps[j]);
        }
        return decided;
    }

    /** The bound result, or the cascade's verdict where the bounds could not decide. */
    public static Decision decide(
            Certifier.Result bound,
            String method,
            long boundMicros,
            Cascade cascade,
            double[] x,
            int label,
            double eps) {
        return decideImage(
                new Certifier.Result[] {bound},
                method,
                boundMicros,
                cascade,
                x,
                label,
                new double[] {eps})[0];
    }
}
