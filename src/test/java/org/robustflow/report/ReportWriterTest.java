package org.robustflow.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownCertifier;
import org.robustflow.bounds.Verdict;
import org.robustflow.data.MnistDataset;
import org.robustflow.model.Network;
import org.robustflow.testutils.Fixtures;
import org.robustflow.verify.Cascade;
import org.robustflow.verify.Decision;
import org.robustflow.verify.Sweep;

import javax.imageio.ImageIO;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

class ReportWriterTest {
    @TempDir Path dir;

    @Test
    void shouldRenderChartTableAndOneGalleryEntryPerCounterexample() throws Exception {
        Network mlp = Fixtures.defaultModel();
        MnistDataset data = Fixtures.mnistTest().head(20);
        double[] eps = {0.01, 0.03, 0.05};
        Sweep.Report run =
                Sweep.run(
                        new CrownCertifier(mlp),
                        new Cascade(mlp, Cascade.Settings.incomplete(Pgd.Settings.defaults())),
                        data,
                        eps,
                        2,
                        8,
                        k -> {});
        List<ReportWriter.Row> rows = new ArrayList<>();
        for (int e = 0; e < eps.length; e++) {
            rows.add(
                    new ReportWriter.Row(
                            eps[e],
                            run.total(),
                            run.certified(e),
                            run.count(e, Verdict.FALSIFIED),
                            run.count(e, Verdict.MISCLASSIFIED),
                            run.count(e, Verdict.UNKNOWN),
                            run.certified(e),
                            run.count(e, Verdict.FALSIFIED)));
        }
        List<ReportWriter.Example> examples = new ArrayList<>();
        for (int i = 0; i < data.size(); i++) {
            for (int e = 0; e < eps.length; e++) {
                Decision d = run.results()[i][e];
                if (d.verdict() == Verdict.FALSIFIED) {
                    examples.add(
                            new ReportWriter.Example(
                                    i,
                                    eps[e],
                                    data.label(i),
                                    d.witnessClass(),
                                    d.method(),
                                    data.pixels(i),
                                    d.witness()));
                }
            }
        }
        assertThat(examples).isNotEmpty();

        Path html =
                ReportWriter.write(
                        dir,
                        "test-run",
                        new ReportWriter.ModelInfo(mlp.version(), mlp.architecture(), 0.97),
                        rows,
                        examples);

        BufferedImage png = ImageIO.read(dir.resolve(ReportWriter.CHART + ".png").toFile());
        assertThat(png.getWidth()).isEqualTo(ReportWriter.CHART_WIDTH);
        assertThat(png.getHeight()).isEqualTo(ReportWriter.CHART_HEIGHT);
        assertThat(Files.readString(dir.resolve(ReportWriter.CHART + ".svg"))).contains("<svg");
        String page = Files.readString(html);
        assertThat(page)
                .contains("href=\"robust-accuracy.png\"")
                .contains("href=\"robust-accuracy.svg\"")
                .contains("data:image/png;base64,")
                .contains(mlp.version())
                .contains("784-50-50-50-10");
        Matcher m = Pattern.compile("class=\"example\"").matcher(page);
        int entries = 0;
        while (m.find()) {
            entries++;
        }
        assertThat(entries).isEqualTo(examples.size());
    }
}
