package org.robustflow.bounds;

import org.robustflow.data.MnistDataset;
import org.robustflow.model.Mlp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;

/**
 * Certifies a whole data set at a list of epsilons, in chunks of images spread over threads: the
 * offline counterpart of the streaming job, and the reference its results must equal.
 */
public final class Sweep {
    /** Images per ND4J batch; times the eps count gives the rows per call (640 for 64 x 10). */
    public static final int DEFAULT_CHUNK = 64;

    private Sweep() {}

    /** Per-(image, eps) results and their totals. */
    public record Report(int total, int correct, double[] eps, Certifier.Result[][] results) {
        public int certified(int epsIndex) {
            int k = 0;
            for (Certifier.Result[] row : results) {
                if (row[epsIndex].verdict() == Verdict.CERTIFIED) {
                    k++;
                }
            }
            return k;
        }

        public double robustAccuracy(int epsIndex) {
            return total == 0 ? 0 : (double) certified(epsIndex) / total;
        }
    }

    /**
     * @param progress told the number of images finished after each chunk (from worker threads)
     */
    public static Report run(Mlp mlp, MnistDataset data, double[] eps, int threads, int chunk, IntConsumer progress) {
        return run(new BoxCertifier(mlp), data, eps, threads, chunk, progress);
    }

    /**
     * @param progress told the number of images finished after each chunk (from worker threads)
     */
    public static Report run(Certifier certifier, MnistDataset data, double[] eps, int threads, int chunk, IntConsumer progress) {
        int n = data.size();
        int pixels = data.pixelsPerImage();
        Certifier.Result[][] results = new Certifier.Result[n][];
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads));
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int from = 0; from < n; from += chunk) {
                int start = from;
                int size = Math.min(chunk, n - from);
                futures.add(pool.submit(() -> {
                    double[] images = new double[size * pixels];
                    int[] labels = new int[size];
                    for (int i = 0; i < size; i++) {
                        data.writePixels(start + i, images, i * pixels);
                        labels[i] = data.label(start + i);
                    }
                    Certifier.Result[][] grid = certifier.certifyGrid(images, labels, eps);
                    System.arraycopy(grid, 0, results, start, size);
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
            throw new IllegalStateException("certification failed: " + e.getCause(), e.getCause());
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
}
