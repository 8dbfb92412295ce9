package org.robustflow.cli;

import org.robustflow.attack.Pgd;
import org.robustflow.model.Network;
import org.robustflow.spec.Property;
import org.robustflow.spec.VnnlibReader;
import org.robustflow.verify.PropertyVerifier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code vnncomp}: a whole VNN-COMP benchmark folder ({@code instances.csv} with network, property
 * and time limit per line), one CSV line per instance and a summary per network. A benchmark, not a
 * test: it prints figures.
 *
 * <pre>{@code
 * ./robustflow vnncomp ../shared/bench/vnncomp2022-mnist_fc --out vnncomp-results.csv
 * }</pre>
 */
@Command(
        name = "vnncomp",
        mixinStandardHelpOptions = true,
        description =
                "Run every instance of a VNN-COMP benchmark folder (instances.csv) and summarise per network.")
public final class VnncompCommand implements Callable<Integer> {
    @Parameters(index = "0", description = "Benchmark folder with instances.csv.")
    Path dir;

    @Option(
            names = "--timeout-scale",
            defaultValue = "1",
            description = "Factor on every instance's time limit (default: ${DEFAULT-VALUE}).")
    double timeoutScale;

    @Option(
            names = "--out",
            defaultValue = "vnncomp-results.csv",
            description =
                    "CSV written: network,property,result,seconds (default: ${DEFAULT-VALUE}).")
    Path out;

    @Mixin BabThreadsOption threads;

    @Option(
            names = "--limit",
            defaultValue = "-1",
            description = "Only the first N instances (default: all).")
    int limit;

    /** One line of instances.csv. */
    record Instance(Path network, Path property, double timeout) {}

    @Override
    public Integer call() throws Exception {
        List<Instance> instances = instances(dir);
        if (limit >= 0 && limit < instances.size()) {
            instances = instances.subList(0, limit);
        }
        Map<Path, Network> networks = new HashMap<>();
        Map<String, int[]> counts = new LinkedHashMap<>(); // sat, unsat, timeout, unknown, error
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        try (PrintWriter csv =
                new PrintWriter(Files.newBufferedWriter(out, StandardCharsets.UTF_8))) {
            csv.println("network,property,result,seconds");
            for (Instance instance : instances) {
                String netName = baseName(instance.network());
                String propName = baseName(instance.property());
                long start = System.nanoTime();
                String result;
                try {
                    Network net = networks.get(instance.network());
                    if (net == null) {
                        net = Models.read(Models.existing(instance.network()));
                        networks.put(instance.network(), net);
                    }
                    Property prop = VnnlibReader.read(Models.existing(instance.property()));
                    PropertyVerifier verifier =
                            new PropertyVerifier(
                                    net, Pgd.Settings.defaults(), true, threads.count());
                    PropertyVerifier.Result r =
                            verifier.verify(
                                    prop, (long) (instance.timeout() * timeoutScale * 1000));
                    if (r.outcome() == PropertyVerifier.Outcome.SAT
                            && !verifier.recheck(prop, r.counterexample())) {
                        throw new IllegalStateException("counterexample does not re-check");
                    }
                    result = r.outcome().word();
                } catch (Exception e) {
                    System.err.println(netName + " " + propName + ": error: " + e.getMessage());
                    result = "error";
                }
                double s = (System.nanoTime() - start) / 1e9;
                csv.printf(Locale.ROOT, "%s,%s,%s,%.3f%n", netName, propName, result, s);
                csv.flush();
                System.out.printf(
                        Locale.ROOT, "%-24s %-24s %-8s %8.3f s%n", netName, propName, result, s);
                int[] c = counts.computeIfAbsent(netName, k -> new int[5]);
                c[List.of("sat", "unsat", "timeout", "unknown", "error").indexOf(result)]++;
                seconds.computeIfAbsent(netName, k -> new ArrayList<>()).add(s);
            }
        }
        System.out.println();
        System.out.printf(
                "%-24s %5s %5s %7s %7s %5s %8s %10s %10s%n",
                "network",
                "sat",
                "unsat",
                "timeout",
                "unknown",
                "error",
                "solved",
                "median s",
                "total s");
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            int[] c = e.getValue();
            List<Double> s = new ArrayList<>(seconds.get(e.getKey()));
            s.sort(Double::compare);
            double total = s.stream().mapToDouble(Double::doubleValue).sum();
            System.out.printf(
                    Locale.ROOT,
                    "%-24s %5d %5d %7d %7d %5d %8d %10.3f %10.1f%n",
                    e.getKey(),
                    c[0],
                    c[1],
                    c[2],
                    c[3],
                    c[4],
                    c[0] + c[1],
                    s.get(s.size() / 2),
                    total);
        }
        System.out.println("results in " + out);
        return 0;
    }

    /** The instances of {@code dir}/instances.csv, paths resolved against {@code dir}. */
    static List<Instance> instances(Path dir) throws java.io.IOException {
        List<Instance> list = new ArrayList<>();
        int line = 0;
        for (String row :
                Files.readAllLines(dir.resolve("instances.csv"), StandardCharsets.UTF_8)) {
            line++;
            if (row.isBlank()) {
                continue;
            }
            String[] cells = row.trim().split("\\s*,\\s*");
            if (cells.length != 3) {
                throw new IllegalArgumentException(
                        "instances.csv line "
                                + line
                                + ": expected network,property,timeout: "
                                + row);
            }
            list.add(
                    new Instance(
                            dir.resolve(cells[0]),
                            dir.resolve(cells[1]),
                            Double.parseDouble(cells[2])));
        }
        return list;
    }

    /** File name without folders and without .gz. */
    static String baseName(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".gz") ? name.substring(0, name.length() - 3) : name;
    }
}
