package org.robustflow.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The comparison of two models: one chart with both, one table with a row per model and eps. */
class ComparisonWriterTest {
    @TempDir Path dir;

    @Test
    void shouldDrawBothModelsInOneChartAndOneTable() throws IOException {
        ComparisonWriter.Series natural =
                new ComparisonWriter.Series(
                        "default",
                        "sha256:aaaa",
                        "784-50-50-50-10",
                        0.97,
                        "natural training",
                        "crown",
                        List.of(
                                new ComparisonWriter.Point(0.01, 100, 0, 80, 5, 3, 12),
                                new ComparisonWriter.Point(0.05, 100, 0, 2, 90, 3, 5)));
        ComparisonWriter.Series robust =
                new ComparisonWriter.Series(
                        "robust",
                        "sha256:bbbb",
                        "784-50-50-50-10",
                        0.95,
                        "crown-ibp training for eps 0.1 (at 0.11)",
                        "crown",
                        List.of(
                                new ComparisonWriter.Point(0.01, 100, 90, 93, 0, 5, 2),
                                new ComparisonWriter.Point(0.05, 100, 70, 88, 1, 5, 6)));
        Path html =
                ComparisonWriter.write(
                        dir, "test", List.of(natural, robust), "./robustflow compare ...");

        BufferedImage png = ImageIO.read(dir.resolve("comparison.png").toFile());
        assertThat(png.getWidth()).isEqualTo(ReportWriter.CHART_WIDTH);
        assertThat(png.getHeight()).isEqualTo(ReportWriter.CHART_HEIGHT);
        assertThat(Files.readString(dir.resolve("comparison.svg"))).contains("<svg");
        assertThat(ComparisonWriter.chart("t", List.of(natural, robust)).getSeriesMap().keySet())
                .containsExactly(
                        "default: certified (crown)",
                        "default: not refuted",
                        "default: certified (box)",
                        "robust: certified (crown)",
                        "robust: not refuted",
                        "robust: certified (box)");
        List<String> csv = Files.readAllLines(dir.resolve("comparison.csv"));
        assertThat(csv).hasSize(5);
        assertThat(csv.get(3)).isEqualTo("robust,sha256:bbbb,0.0100,100,90,93,0,5,2,0.9300,0.9500");
        assertThat(Files.readString(html))
                .contains("default: box certified", "robust: certified", "<td>0.8800</td>");
        assertThat(Files.readString(dir.resolve("comparison.json")))
                .contains("\"boxCertified\" : 70", "./robustflow compare");
    }
}
