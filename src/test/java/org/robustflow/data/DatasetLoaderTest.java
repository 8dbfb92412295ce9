package org.robustflow.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.robustflow.testutils.Fixtures;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DatasetLoaderTest {
    @TempDir Path dir;

    @Test
    void shouldLoadRealMnistTestSetWithKnownLabels() {
        MnistDataset test = Fixtures.mnistTest();
        assertThat(test.size()).isEqualTo(10_000);
        assertThat(Arrays.copyOf(test.labels(), 10)).containsExactly(7, 2, 1, 0, 4, 1, 4, 9, 5, 9);
        assertThat(test.labelCounts())
                .containsExactly(980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009);
        assertThat(test.rows()).isEqualTo(28);
        assertThat(test.cols()).isEqualTo(28);
    }

    @Test
    void shouldLoadRealMnistTrainingSet() {
        MnistDataset train = Fixtures.mnistTrain();
        assertThat(train.size()).isEqualTo(60_000);
        assertThat(Arrays.copyOf(train.labels(), 10)).containsExactly(5, 0, 4, 1, 9, 2, 1, 3, 1, 4);
    }

    @Test
    void shouldMapPixelsToUnitInterval() {
        MnistDataset test = Fixtures.mnistTest();
        double[] x = test.pixels(0);
        byte[] raw = test.rawPixels(0);
        for (int k = 0; k < x.length; k++) {
            assertThat(x[k]).isEqualTo((raw[k] & 0xff) / 255.0);
        }
        assertThat(Arrays.stream(x).max().getAsDouble()).isEqualTo(1.0);
        assertThat(Arrays.stream(x).min().getAsDouble()).isEqualTo(0.0);
    }

    @Test
    void shouldReadRawAndGzippedFilesAlike() throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), 3, 28, 28, false);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte.gz"), new byte[] {1, 2, 3}, true);
        MnistDataset data = DatasetLoader.load(dir, DatasetLoader.Split.TEST);
        assertThat(data.labels()).containsExactly(1, 2, 3);
        assertThat(data.rawPixels(2)[5]).isEqualTo((byte) (2 * 784 + 5));
    }

    @Test
    void shouldRejectWrongMagicNamingTheFile() throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte");
        writeImages(images, 2, 28, 28, false);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {1, 2}, false);
        byte[] bytes = Files.readAllBytes(images);
        bytes[3] = 1; // claims one dimension
        Files.write(images, bytes);
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .isInstanceOf(InvalidDataException.class)
                .hasMessageContaining(images.toString())
                .hasMessageContaining("wrong magic number");
    }

    @Test
    void shouldRejectTruncatedImages() throws IOException {
        Path images = dir.resolve("t10k-images-idx3-ubyte");
        writeImages(images, 2, 28, 28, false);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {1, 2}, false);
        byte[] bytes = Files.readAllBytes(images);
        Files.write(images, Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .hasMessageContaining(images.toString())
                .hasMessageContaining("truncated");
    }

    @Test
    void shouldRejectCountMismatch() throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), 3, 28, 28, false);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte");
        writeLabels(labels, new byte[] {1, 2}, false);
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .hasMessageContaining(labels.toString())
                .hasMessageContaining("count mismatch: 2 labels for 3 images");
    }

    @Test
    void shouldRejectLabelOutOfRange() throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), 2, 28, 28, false);
        Path labels = dir.resolve("t10k-labels-idx1-ubyte");
        writeLabels(labels, new byte[] {1, 12}, false);
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .hasMessageContaining(labels.toString())
                .hasMessageContaining("label 12 at index 1 is out of range 0-9");
    }

    @Test
    void shouldRejectOtherImageSizes() throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), 2, 32, 32, false);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {1, 2}, false);
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .hasMessageContaining("32x32, expected 28x28");
    }

    @Test
    void shouldRejectChecksumMismatch() throws IOException {
        writeImages(dir.resolve("t10k-images-idx3-ubyte"), 2, 28, 28, false);
        writeLabels(dir.resolve("t10k-labels-idx1-ubyte"), new byte[] {1, 2}, false);
        Files.writeString(
                dir.resolve("SHA256SUMS"),
                "0000000000000000000000000000000000000000000000000000000000000000  t10k-labels-idx1-ubyte\n");
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TEST))
                .hasMessageContaining("checksum mismatch");
    }

    @Test
    void shouldReportMissingFiles() {
        assertThatThrownBy(() -> DatasetLoader.load(dir, DatasetLoader.Split.TRAIN))
                .hasMessageContaining("no train-images-idx3-ubyte");
    }

    private static void writeImages(Path file, int count, int rows, int cols, boolean gzip)
            throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x00000803);
        out.writeInt(count);
        out.writeInt(rows);
        out.writeInt(cols);
        for (int k = 0; k < count * rows * cols; k++) {
            out.writeByte(k);
        }
        write(file, bytes.toByteArray(), gzip);
    }

    private static void writeLabels(Path file, byte[] labels, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x00000801);
        out.writeInt(labels.length);
        out.write(labels);
        write(file, bytes.toByteArray(), gzip);
    }

    private static void write(Path file, byte[] bytes, boolean gzip) throws IOException {
        try (OutputStream out =
                gzip
                        ? new GZIPOutputStream(Files.newOutputStream(file))
                        : Files.newOutputStream(file)) {
            out.write(bytes);
        }
    }
}
