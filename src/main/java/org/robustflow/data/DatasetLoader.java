package org.robustflow.data;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * Finds and loads the train or test split of an IDX data set directory.
 *
 * <p>Accepts the usual MNIST file names ({@code t10k-images-idx3-ubyte}, {@code
 * t10k-images.idx3-ubyte}, each optionally {@code .gz}). When the directory holds a {@code
 * SHA256SUMS} file (as the shipped MNIST copy does), every file is checked against it: the sums are
 * of the uncompressed contents.
 */
public final class DatasetLoader {
    /** Image side length the models are built for; other IDX sets must match it. */
    public static final int SIDE = 28;

    /** Which half of the data set. */
    public enum Split {
        TRAIN("train"),
        TEST("t10k");

        final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }
    }

    private DatasetLoader() {}

    public static MnistDataset load(Path dir, Split split) throws IOException {
        Path imagesFile = find(dir, split.prefix + "-images", "idx3-ubyte");
        Path labelsFile = find(dir, split.prefix + "-labels", "idx1-ubyte");
        Map<String, String> sums = readChecksums(dir);
        verify(imagesFile, sums);
        verify(labelsFile, sums);

        IdxReader.Images images = IdxReader.readImages(imagesFile);
        if (images.rows() != SIDE || images.cols() != SIDE) {
            throw new InvalidDataException(
                    imagesFile,
                    "images are "
                            + images.rows()
                            + "x"
                            + images.cols()
                            + ", expected "
                            + SIDE
                            + "x"
                            + SIDE);
        }
        int[] labels = IdxReader.readLabels(labelsFile);
        if (labels.length != images.count()) {
            throw new InvalidDataException(
                    labelsFile,
                    "count mismatch: "
                            + labels.length
                            + " labels for "
                            + images.count()
                            + " images in "
                            + imagesFile.getFileName());
        }
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] >= MnistDataset.NUM_CLASSES) {
                throw new InvalidDataException(
                        labelsFile,
                        "label " + labels[i] + " at index " + i + " is out of range 0-9");
            }
        }
        return new MnistDataset(
                dir.getFileName() + "/" + split.name().toLowerCase(),
                images.rows(),
                images.cols(),
                images.pixels(),
                labels);
    }

    private static Path find(Path dir, String stem, String kind) throws InvalidDataException {
        for (String name : List.of(stem + "-" + kind, stem + "." + kind)) {
            for (String suffix : List.of("", ".gz")) {
                Path candidate = dir.resolve(name + suffix);
                if (Files.isRegularFile(candidate)) {
                    return candidate;
                }
            }
        }
        throw new InvalidDataException(
                dir, "no " + stem + "-" + kind + "[.gz] file in this directory");
    }

    private static Map<String, String> readChecksums(Path dir) throws IOException {
        Path file = dir.resolve("SHA256SUMS");
        Map<String, String> sums = new HashMap<>();
        if (!Files.isRegularFile(file)) {
            return sums;
        }
        for (String line : Files.readAllLines(file)) {
            String[] parts = line.trim().split("\\s+\\*?");
            if (parts.length == 2) {
                sums.put(parts[1], parts[0].toLowerCase());
            }
        }
        return sums;
    }

    private static void verify(Path file, Map<String, String> sums) throws IOException {
        String name = file.getFileName().toString();
        boolean gzipped = name.endsWith(".gz");
        String expected = sums.get(gzipped ? name.substring(0, name.length() - 3) : name);
        if (expected == null) {
            return;
        }
        String actual = sha256(file, gzipped);
        if (!actual.equals(expected)) {
            throw new InvalidDataException(
                    file, "checksum mismatch: SHA-256 " + actual + ", SHA256SUMS says " + expected);
        }
    }

    private static String sha256(Path file, boolean gzipped) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream raw = Files.newInputStream(file);
                InputStream in =
                        new DigestInputStream(
                                gzipped ? new GZIPInputStream(raw, 1 << 16) : raw, digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
