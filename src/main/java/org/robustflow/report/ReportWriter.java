package org.robustflow.report;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.VectorGraphicsEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Writes a run's report: a chart of robust accuracy against eps (PNG and SVG, with XChart) and one
 * self-contained HTML page with the table, the chart, the model and a gallery of counterexamples
 * (original, perturbed, and the difference amplified to the full grey range).
 */
public final class ReportWriter {
    public static final String CHART = "robust-accuracy";
    public static final int CHART_WIDTH = 800;
    public static final int CHART_HEIGHT = 500;

    /** Enough to look at; the HTML says how many there were in all. */
    public static final int MAX_GALLERY = 100;

    private static final int SCALE = 4;

    private ReportWriter() {}

    /** One eps of the final table. */
    public record Row(
            double eps,
            long seen,
            long certified,
            long falsified,
            long misclassified,
            long unknown,
            long certifiedByBounds,
            long falsifiedByPgd) {
        double lower() {
            return seen == 0 ? 0 : (double) certified / seen;
        }

        double upper() {
            return seen == 0 ? 0 : (double) (seen - falsified - misclassified) / seen;
        }

        double boundsLower() {
            return seen == 0 ? 0 : (double) certifiedByBounds / seen;
        }

        double pgdUpper() {
            return seen == 0 ? 0 : (double) (seen - falsifiedByPgd - misclassified) / seen;
        }
    }

    /** A counterexample with its original image (pixels in [0,1], row-major, width x width). */
    public record Example(
            long imageId,
            double eps,
            int label,
            int predicted,
            String method,
            double[] original,
            double[] witness) {}

    /** The model the run verified. */
    public record ModelInfo(String version, String architecture, Double testAccuracy) {}

    /** Writes the chart files and index.html into {@code dir}; returns the HTML file. */
    public static Path write(
            Path dir, String runId, ModelInfo model, List<Row> rows, List<Example> examples)
            throws IOException {
        Files.createDirectories(dir);
        XYChart chart = chart(runId, rows);
        BitmapEncoder.saveBitmap(
                chart, dir.resolve(CHART + ".png").toString(), BitmapEncoder.BitmapFormat.PNG);
        VectorGraphicsEncoder.saveVectorGraphic(
                chart,
                dir.resolve(CHART).toString(),
                VectorGraphicsEncoder.VectorGraphicsFormat.SVG);
        Path html = dir.resolve("index.html");
        Files.writeString(
                html,
                html(
                        runId,
                        model,
                        rows,
                        examples,
                        Files.readAllBytes(dir.resolve(CHART + ".png"))));
        return html;
    }

    static XYChart chart(String runId, List<Row> rows) {
        XYChart chart =
                new XYChartBuilder()
                        .width(CHART_WIDTH)
                        .height(CHART_HEIGHT)
                        .title("Robust accuracy, run " + runId)
                        .xAxisTitle("eps (L-infinity)")
                        .yAxisTitle("robust accuracy")
                        .build();
        double[] eps = rows.stream().mapToDouble(Row::eps).toArray();
        chart.addSeries(
                        "certified, final (lower bound)",
                        eps,
                        rows.stream().mapToDouble(Row::lower).toArray())
                .setMarker(SeriesMarkers.CIRCLE);
        chart.addSeries(
                        "not refuted, final (upper bound)",
                        eps,
                        rows.stream().mapToDouble(Row::upper).toArray())
                .setMarker(SeriesMarkers.DIAMOND);
        if (rows.stream().anyMatch(r -> r.certifiedByBounds() != r.certified())) {
            chart.addSeries(
                            "certified by bounds alone",
                            eps,
                            rows.stream().mapToDouble(Row::boundsLower).toArray())
                    .setMarker(SeriesMarkers.NONE);
        }
        if (rows.stream().anyMatch(r -> r.falsifiedByPgd() != r.falsified())) {
            chart.addSeries(
                            "not refuted by PGD alone",
                            eps,
                            rows.stream().mapToDouble(Row::pgdUpper).toArray())
                    .setMarker(SeriesMarkers.NONE);
        }
        chart.getStyler().setYAxisMin(0.0).setYAxisMax(1.0);
        return chart;
    }

    private static String html(
            String runId, ModelInfo model, List<Row> rows, List<Example> examples, byte[] chartPng)
            throws IOException {
        StringBuilder h = new StringBuilder();
        h.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>robustflow run ")
                .append(esc(runId))
                .append("</title>\n")
                .append(
                        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;")
                .append(
                        "padding:4px 8px;text-align:right}.example{display:inline-block;margin:6px;padding:6px;border:1px solid #ddd}")
                .append(
                        ".example img{image-rendering:pixelated;margin:2px}.caption{font-size:12px}</style></head><body>\n");
        h.append("<h1>Robustness of model ")
                .append(esc(model.version()))
                .append("</h1>\n<p>Run ")
                .append(esc(runId))
                .append(", architecture ")
                .append(esc(model.architecture()))
                .append(
                        model.testAccuracy() == null
                                ? ""
                                : String.format(
                                        Locale.ROOT, ", test accuracy %.4f", model.testAccuracy()))
                .append(".</p>\n");
        h.append("<p><img alt=\"robust accuracy against eps\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(chartPng))
                .append("\"><br>Chart files: <a href=\"")
                .append(CHART)
                .append(".png\">")
                .append(CHART)
                .append(".png</a>, <a href=\"")
                .append(CHART)
                .append(".svg\">")
                .append(CHART)
                .append(".svg</a></p>\n");
        h.append(
                        "<table><tr><th>eps</th><th>seen</th><th>certified</th><th>falsified</th><th>misclassified</th><th>unknown</th>")
                .append("<th>robust accuracy &ge;</th><th>robust accuracy &le;</th></tr>\n");
        for (Row r : rows) {
            h.append(
                    String.format(
                            Locale.ROOT,
                            "<tr><td>%.4f</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%d</td><td>%.4f</td><td>%.4f</td></tr>%n",
                            r.eps(),
                            r.seen(),
                            r.certified(),
                            r.falsified(),
                            r.misclassified(),
                            r.unknown(),
                            r.lower(),
                            r.upper()));
        }
        h.append("</table>\n<h2>Counterexamples</h2>\n<p>")
                .append(examples.size())
                .append(" re-checked counterexample")
                .append(examples.size() == 1 ? "" : "s")
                .append(
                        examples.size() > MAX_GALLERY
                                ? ", the first " + MAX_GALLERY + " shown"
                                : "")
                .append(
                        ". Each: original, perturbed, and |perturbed - original| scaled so eps is white.</p>\n<div>\n");
        for (Example e : examples.subList(0, Math.min(MAX_GALLERY, examples.size()))) {
            int side = (int) Math.round(Math.sqrt(e.original().length));
            double[] diff = new double[e.original().length];
            for (int k = 0; k < diff.length; k++) {
                diff[k] =
                        e.eps() == 0
                                ? 0
                                : Math.min(1, Math.abs(e.witness()[k] - e.original()[k]) / e.eps());
            }
            h.append("<div class=\"example\">")
                    .append(img(e.original(), side))
                    .append(img(e.witness(), side))
                    .append(img(diff, side))
                    .append(
                            String.format(
                                    Locale.ROOT,
                                    "<div class=\"caption\">image %d, eps %.4f: true %d, predicted %d (%s)</div></div>%n",
                                    e.imageId(),
                                    e.eps(),
                                    e.label(),
                                    e.predicted(),
                                    esc(e.method())));
        }
        h.append("</div>\n</body></html>\n");
        return h.toString();
    }

    private static String img(double[] pixels, int side) throws IOException {
        BufferedImage image =
                new BufferedImage(side * SCALE, side * SCALE, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < side * SCALE; y++) {
            for (int x = 0; x < side * SCALE; x++) {
                int v =
                        (int)
                                Math.round(
                                        255
                                                * Math.max(
                                                        0,
                                                        Math.min(
                                                                1,
                                                                pixels[
                                                                        (y / SCALE) * side
                                                                                + x / SCALE])));
                image.getRaster().setSample(x, y, 0, v);
            }
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        return "<img alt=\"\" src=\"data:image/png;base64,"
                + Base64.getEncoder().encodeToString(png.toByteArray())
                + "\">";
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
