package org.robustflow.bounds;

import java.util.Arrays;
import java.util.Locale;

/**
 * Parses epsilon lists: {@code start:end:count} (count values evenly from start to end inclusive),
 * a comma list such as {@code 0.01,0.03,0.05}, or a comma list mixing both.
 *
 * <p>Grid values are rounded to 12 decimals so that 0.01:0.1:10 yields exactly the doubles of the
 * literals 0.01, 0.02, ..., 0.1, the same values a comma list of those literals gives.
 */
public final class EpsilonGrid {
    /** The product's default: 10 values evenly from 0.01 to 0.1. */
    public static final String DEFAULT = "0.01:0.1:10";

    private EpsilonGrid() {}

    public static double[] parse(String spec) {
        double[] values =
                Arrays.stream(spec.split(","))
                        .flatMapToDouble(part -> Arrays.stream(parsePart(part.trim(), spec)))
                        .toArray();
        for (double v : values) {
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException(
                        "eps must lie in [0, 1], got " + v + " in '" + spec + "'");
            }
        }
        return values;
    }

    private static double[] parsePart(String s, String spec) {
        double[] values;
        if (s.contains(":")) {
            String[] parts = s.split(":");
            if (parts.length != 3) {
                throw new IllegalArgumentException(
                        "eps grid must be start:end:count, got '" + spec + "'");
            }
            double start = number(parts[0], spec);
            double end = number(parts[1], spec);
            int count;
            try {
                count = Integer.parseInt(parts[2].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "eps grid count must be an integer, got '" + parts[2] + "'");
            }
            if (count < 1 || (count == 1 && start != end) || end < start) {
                throw new IllegalArgumentException(
                        "eps grid '"
                                + spec
                                + "' needs end >= start and count >= 1 (1 only if start = end)");
            }
            values = new double[count];
            for (int i = 0; i < count; i++) {
                double v = count == 1 ? start : start + i * (end - start) / (count - 1);
                values[i] = Math.round(v * 1e12) / 1e12;
            }
        } else {
            values = new double[] {number(s, spec)};
        }
        return values;
    }

    /** The key used in JSON results: four decimals, e.g. "0.0100". */
    public static String key(double eps) {
        return String.format(Locale.ROOT, "%.4f", eps);
    }

    private static double number(String text, String spec) {
        try {
            return Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "'" + text.trim() + "' in eps list '" + spec + "' is not a number");
        }
    }
}
