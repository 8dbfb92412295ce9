package org.robustflow.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Writes a comparison of several models over the same images and eps: one chart (PNG and SVG) with
 * each model's certified (lower bound) and not-refuted (upper bound) robust accuracy and its
 * box-certified curve, one table ({@code comparison.csv}, {@code comparison.json}) and an HTML page
 * with both.
 *
 * <pre>{@code
 * ComparisonWriter.write(dir, "MNIST test set", List.of(defaultModel, robustModel));
 * }</pre>
 */
public final class ComparisonWriter {
    public static final String CHART = "comparison";

    private ComparisonWriter() {}

    /**
     * One eps of one model: box-certified pairs, and the final verdicts (bounds of {@code method},
     * then the attack) of the same {@code total} images.
     */
    public record Point(
            double eps,
            long total,
            long boxCertified,
            long certified,
            long falsified,
            long misclassified,
            long unknown) {
        public double lower() {
            return total == 0 ? 0 : (double) certified / total;
        }

        public double upper() {
            return total == 0 ? 0 : (double) (total - falsified - misclassified) / total;
        }

        public double boxLower() {
            return total == 0 ? 0 : (double) boxCertified / total;
        }
    }

    /**
     * A model's curves; {@code method} names the bound method that certified (the not-refuted curve
     * is what the attack left), e.g. "crown".
     */
    public record Series(
            String name,
            String version,
            String architecture,
            Double testAccuracy,
            String training,
            String method,
            List<Point> points) {}

    /** Writes the chart files, comparison.csv, comparison.json and index.html into {@code dir}. */
    public static Path write(Path dir, String title, List<Series> models, String command)
            throws IOException {
        Files.createDirectories(dir);
        XYChart chart = chart(title, models);
        BitmapEncoder.saveBitmap(
                chart, dir.resolve(CHART + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(
                chart,
                dir.resolve(CHART).toString(),
                VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        Files.writeString(dir.resolve(CHART + ".csv"), csv(models));
        new ObjectMapper()
                .writerWithDefaultPrettyPrinter()
                .writeValue(dir.resolve(CHART + ".json").toFile(), json(models, command));
        Path html = dir.resolve("index.html");
        Files.writeString(
                html,
                html(title, models, command, Files.readAllBytes(dir.resolve(CHART + ".png"))));
        return html;
    }

    static XYChart chart(String title, List<Series> models) {
        XYChart chart =
                new XYChartBuilder()
                        .width(ReportWriter.CHART_WIDTH)
                        .height(ReportWriter.CHART_HEIGHT)
                        .title(title)
                        .xAxisTitle("eps (L-infinity)")
                        .yAxisTitle("robust accuracy")
                        .build();
        for (Series m : models) {
            double[] eps = m.points().stream().mapToDouble(Point::eps).toArray();
            chart.addSeries(
                            m.name() + ": certified (" + m.method() + ")",
                            eps,
                            m.points().stream().mapToDouble(Point::lower).toArray())
                    .setMarker(SeriesMarkers.CIRCLE);
            chart.addSeries(
                            m.name() + ": not refuted",
                            eps,
                            m.points().stream().mapToDouble(Point::upper).toArray())
                    .setMarker(SeriesMarkers.DIAMOND);
            XYSeries box =
                    chart.addSeries(
                            m.name() + ": certified (box)",
                            eps,
                            m.points().stream().mapToDouble(Point::boxLower).toArray());
            box.setMarker(SeriesMarkers.NONE);
            box.setLineStyle(SeriesLines.DASH_DASH);
        }
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        return chart;
    }

    static String csv(List<Series> models) {
        StringBuilder s =
                new StringBuilder(
                        "model,version,eps,total,box_certified,certified,falsified,misclassified,unknown,robust_acc_lower,robust_acc_upper\n");
        for (Series m : models) {
            for (Point p : m.points()) {
                s.append(
                        String.format(
                                Locale.ROOT,
                                "%s,%s,%.4f,%d,%d,%d,%d,%d,%d,%.4f,%.4f%n",
                                m.name(),
                                m.version(),
                                p.eps(),
                                p.total(),
                                p.boxCertified(),
                                p.certified(),
                                p.falsified(),
                                p.misclassified(),
                                p.unknown(),
                                p.lower(),
                                p.upper()));
            }
        }
        return s.toString();
    }

    private static ObjectNode json(List<Series> models, String command) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        root.put("command", command);
        ArrayNode list = root.putArray("models");
        for (Series m : models) {
            ObjectNode node = list.addObject();
            node.put("name", m.name());
            node.put("version", m.version());
            node.put("architecture", m.architecture());
            if (m.testAccuracy() != null) {
                node.put("testAccuracy", m.testAccuracy());
            }
            node.put("training", m.training());
            node.put("method", m.method());
            ArrayNode points = node.putArray("eps");
            for (Point p : m.points()) {
                ObjectNode e = points.addObject();
                e.put("eps", p.eps());
                e.put("total", p.total());
                e.put("boxCertified", p.boxCertified());
                e.put("certified", p.certified());
                e.put("falsified", p.falsified());
                e.put("misclassified", p.misclassified());
                e.put("unknown", p.unknown());
            }
        }
        return root;
    }

    private static String html(String title, List<Series> models, String command, byte[] png) {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>")
                .append(esc(title))
                .append("</title>\n<style>body{font-family:sans-serif;margin:2em}")
                .append(
                        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;")
                .append("text-align:right}</style></head><body>\n<h1>")
                .append(esc(title))
                .append("</h1>\n<p>Command: <code>")
                .append(esc(command))
                .append("</code></p>\n<ul>\n");
        for (Series m : models) {
            h.append("<li><b>")
                    .append(esc(m.name()))
                    .append("</b>: ")
                    .append(esc(m.architecture()))
                    .append(' ')
                    .append(esc(m.version()))
                    .append(
                            m.testAccuracy() == null
                                    ? ""
                                    : String.format(
                                            Locale.ROOT, ", test accuracy %.4f", m.testAccuracy()))
                    .append(", ")
                    .append(esc(m.training()))
                    .append("</li>\n");
        }
        h.append("</ul>\n<p><img alt=\"robust accuracy against eps\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png))
                .append("\"><br>Chart files: <a href=\"")
                .append(CHART)
                .append(".png\">")
                .append(CHART)
                .append(".png</a>, <a href=\"")
                .append(CHART)
                .append(".svg\">")
                .append(CHART)
                .append(".svg</a>; table: <a href=\"")
                .append(CHART)
                .append(".csv\">")
                .append(CHART)
                .append(".csv</a></p>\n<table><tr><th>eps</th>");
        for (Series m : models) {
            String n = esc(m.name());
            h.append("<th>")
                    .append(n)
                    .append(": box certified</th><th>")
                    .append(n)
                    .append(": certified</th><th>")
                    .append(n)
                    .append(": falsified</th><th>")
                    .append(n)
                    .append(": unknown</th><th>")
                    .append(n)
                    .append(": robust acc &ge;</th><th>")
                    .append(n)
                    .append(": robust acc &le;</th>");
        }
        h.append("</tr>\n");
        int rows = models.isEmpty() ? 0 : models.get(0).points().size();
        for (int r = 0; r < rows; r++) {
            h.append(
                    String.format(
                            Locale.ROOT, "<tr><td>%.4f</td>", models.get(0).points().get(r).eps()));
            for (Series m : models) {
                Point p = m.points().get(r);
                h.append(
                        String.format(
                                Locale.ROOT,
                                "<td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td>",
                                p.boxCertified(),
                                p.certified(),
                                p.falsified(),
                                p.unknown(),
                                p.lower(),
                                p.upper()));
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n</body></html>\n");
        return h.toString();
    }

    private static String esc(String s) {
        return s == null
                ? ""
                : s.replace("&", "&amp;")
                        .replace("<", "&lt;")
                        .replace(">", "&gt;")
                        .replace("\"", "&quot;");
    }
}
