package org.robustflow.verify;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.BoxCertifier;
import org.robustflow.bounds.Certifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Verifies a whole data set at a list of epsilons, in chunks of images spread over threads: bounds
 * first, then (optionally) a PGD attack on the pairs the bounds left undecided. The offline
 * counterpart of the streaming job, and the reference its results must equal.
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
     * @param attack run on pairs the bounds leave UNKNOWN; null for bounds only
     * @param progress told the number of images finished after each chunk (from worker threads)
     */
    public static Report run(
            Certifier certifier,
            Pgd attack,
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
                                    long begin = System.nanoTime();
                                    Certifier.Result[][] grid =
                                            certifier.certifyGrid(images, labels, eps);
                                    long boundMicros =
                                            (System.nanoTime() - begin)
                                                    / 1000
                                                    / Math.max(1, size * eps.length);
                                    for (int i = 0; i < size; i++) {
                                        Decision[] row = new Decision[eps.length];
                                        double[] x =
                                                Arrays.copyOfRange(
                                                        images, i * pixels, (i + 1) * pixels);
                                        for (int e = 0; e < eps.length; e++) {
                                            row[e] =
                                                    decide(
                                                            grid[i][e],
                                                            certifier.method(),
                                                            boundMicros,
                                                            attack,
                                                            x,
                                                            labels[i],
                                                            eps[e]);
                                        }
                                        results[start + i] = row;
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

    /** The bound result, or the attack's verdict where the bounds could not decide. */
    public static Decision decide(
            Certifier.Result bound,
            String method,
            long boundMicros,
            Pgd attack,
            double[] x,
            int label,
            double eps) {
        if (bound.verdict() != Verdict.UNKNOWN || attack == null) {
            return new Decision(
                    bound.verdict(),
                    method,
                    bound.predicted(),
                    bound.marginLowerBound(),
                    bound.unstableRelus(),
                    boundMicros,
                    null,
                    -1);
        }
        long start = System.nanoTime();
        double[] witness = attack.attack(x, label, eps).orElse(null);
        long micros = boundMicros + (System.nanoTime() - start) / 1000;
        return witness == null
                ? new Decision(
                        Verdict.UNKNOWN,
                        method,
                        bound.predicted(),
                        bound.marginLowerBound(),
                        bound.unstableRelus(),
                        micros,
                        null,
                        -1)
                : new Decision(
                        Verdict.FALSIFIED,
                        "pgd",
                        bound.predicted(),
                        bound.marginLowerBound(),
                        bound.unstableRelus(),
                        micros,
                        witness,
                        attack.model().predict(witness));
    }
}
