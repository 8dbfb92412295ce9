package org.robustflow.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Reads the IDX files of MNIST and data sets of the same format, raw or gzip-compressed.
 *
 * <p>Format (big-endian): two zero bytes, a type byte (0x08 = unsigned byte), the number of
 * dimensions, one int per dimension, then the data. Images are 3-dimensional (count, rows, cols),
 * labels 1-dimensional (count).
 */
public final class IdxReader {
    private static final int UNSIGNED_BYTE = 0x08;
    private static final int GZIP_MAGIC = 0x1f8b;

    private IdxReader() {}

    /** Images as one flat array of count*rows*cols unsigned bytes, row-major. */
    public record Images(int count, int rows, int cols, byte[] pixels) {
        public int pixelsPerImage() {
            return rows * cols;
        }
    }

    public static Images readImages(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = readHeader(in, file, 3);
            long total = (long) dims[0] * dims[1] * dims[2];
            if (dims[1] <= 0 || dims[2] <= 0 || total > Integer.MAX_VALUE) {
                throw new InvalidDataException(
                        file,
                        "implausible image dimensions " + dims[0] + "x" + dims[1] + "x" + dims[2]);
            }
            byte[] pixels =
                    readBody(
                            in,
                            file,
                            (int) total,
                            dims[0] + " images of " + dims[1] + "x" + dims[2]);
            return new Images(dims[0], dims[1], dims[2], pixels);
        }
    }

    /** Labels as unsigned bytes widened to int; the range is the caller's to check. */
    public static int[] readLabels(Path file) throws IOException {
        try (DataInputStream in = open(file)) {
            int[] dims = readHeader(in, file, 1);
            byte[] raw = readBody(in, file, dims[0], dims[0] + " labels");
            int[] labels = new int[raw.length];
            for (int i = 0; i < raw.length; i++) {
                labels[i] = raw[i] & 0xff;
            }
            return labels;
        }
    }

    private static DataInputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new InvalidDataException(file, "no such file");
        }
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        raw.mark(2);
        int magic = (raw.read() << 8) | raw.read();
        raw.reset();
        InputStream in = magic == GZIP_MAGIC ? new GZIPInputStream(raw, 1 << 16) : raw;
        return new DataInputStream(new BufferedInputStream(in, 1 << 16));
    }

    private static int[] readHeader(DataInputStream in, Path file, int expectedDims)
            throws IOException {
        int magic;
        try {
            magic = in.readInt();
        } catch (EOFException e) {
            throw new InvalidDataException(
                    file, "truncated: shorter than the 4-byte IDX magic number");
        }
        int type = (magic >>> 8) & 0xff;
        int dims = magic & 0xff;
        if ((magic >>> 16) != 0 || type != UNSIGNED_BYTE || dims != expectedDims) {
            throw new InvalidDataException(
                    file,
                    String.format(
                            "wrong magic number 0x%08x: expected 0x%08x (unsigned bytes, %d dimension%s)",
                            magic,
                            (UNSIGNED_BYTE << 8) | expectedDims,
                            expectedDims,
                            expectedDims == 1 ? "" : "s"));
        }
        int[] sizes = new int[dims];
        for (int d = 0; d < dims; d++) {
            try {
                sizes[d] = in.readInt();
            } catch (EOFException e) {
                throw new InvalidDataException(file, "truncated inside the header");
            }
            if (sizes[d] < 0) {
                throw new InvalidDataException(
                        file, "negative size " + sizes[d] + " in dimension " + d);
            }
        }
        return sizes;
    }

    private static byte[] readBody(DataInputStream in, Path file, int length, String what)
            throws IOException {
        byte[] body = new byte[length];
        int read = in.readNBytes(body, 0, length);
        if (read < length) {
            throw new InvalidDataException(
                    file,
                    "truncated: header announces "
                            + what
                            + " ("
                            + length
                            + " bytes) but only "
                            + read
                            + " follow");
        }
        if (in.read() != -1) {
            throw new InvalidDataException(
                    file, "trailing bytes after the " + what + " the header announces");
        }
        return body;
    }
}
