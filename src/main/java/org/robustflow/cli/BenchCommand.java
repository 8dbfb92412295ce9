package org.robustflow.cli;

import org.robustflow.bounds.Certifier;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.verify.Sweep;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Arrays;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bench}: box verdicts per second on the test set x eps grid, one thread and all cores.
 *
 * <p>A benchmark, not a test: it prints figures and asserts nothing. Each configuration runs a
 * warm-up pass (JIT, ND4J initialisation) and then {@code --repeat} timed passes; the median is
 * reported.
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Measure bound throughput (verdicts per second) on the test set x eps grid.")
public final class BenchCommand implements Callable<Integer> {
    @Mixin TestSetOptions data;

    @Option(
            names = "--threads",
            split = ",",
            description = "Thread counts to measure (default: 1 and the number of cores).")
    int[] threads;

    @Option(
            names = "--chunk",
            split = ",",
            defaultValue = "64",
            description = "Images per ND4J batch, one or more values (default: ${DEFAULT-VALUE}).")
    int[] chunks;

    @Option(
            names = "--method",
            defaultValue = "box",
            description = "Bound method: box or crown (default: ${DEFAULT-VALUE}).")
    String method;

    @Option(
            names = "--repeat",
            defaultValue = "3",
            description = "Timed passes per configuration (default: ${DEFAULT-VALUE}).")
    int repeat;

    @Override
    public Integer call() throws Exception {
        double[] epsValues = data.eps();
        MnistDataset test = data.testSet();
        Network mlp = data.model();
        int cores = Runtime.getRuntime().availableProcessors();
        int[] threadCounts =
                threads != null ? threads : cores > 1 ? new int[] {1, cores} : new int[] {1};
        String omp = System.getenv("OMP_NUM_THREADS");
        System.out.printf(
                method
                        + " bounds, model %s, %d images x %d eps = %d verdicts per pass, OMP_NUM_THREADS=%s, %d cores%n",
                mlp.architecture(),
                test.size(),
                epsValues.length,
                test.size() * epsValues.length,
                omp,
                cores);
        System.out.printf(
                "%7s  %6s  %10s  %14s  %16s%n",
                "threads", "chunk", "pass (s)", "verdicts/s", "us per verdict");
        long verdicts = (long) test.size() * epsValues.length;
        for (int chunk : chunks) {
            for (int t : threadCounts) {
                Sweep.run(Certifier.of(method, mlp), null, test, epsValues, t, chunk, k -> {});
                double[] times = new double[repeat];
                for (int r = 0; r < repeat; r++) {
                    long start = System.nanoTime();
                    Sweep.run(Certifier.of(method, mlp), null, test, epsValues, t, chunk, k -> {});
                    times[r] = (System.nanoTime() - start) / 1e9;
                }
                Arrays.sort(times);
                double median = times[repeat / 2];
                System.out.printf(
                        Locale.ROOT,
                        "%7d  %6d  %10.3f  %14.0f  %16.2f%n",
                        t,
                        chunk,
                        median,
                        verdicts / median,
                        median * 1e6 / verdicts);
            }
        }
        return 0;
    }
}
