package org.robustflow.data;

import java.util.Arrays;

/**
 * An in-memory labelled image set: 8-bit greyscale pixels and labels 0-9.
 *
 * <p>Pixels are kept as the raw bytes; {@link #pixels(int)} maps them to [0,1] as value/255, the
 * only normalisation the models see.
 */
public final class MnistDataset {
    public static final int NUM_CLASSES = 10;

    private final String name;
    private final int rows;
    private final int cols;
    private final byte[] pixels;
    private final int[] labels;

    public MnistDataset(String name, int rows, int cols, byte[] pixels, int[] labels) {
        if ((long) rows * cols * labels.length != pixels.length) {
            throw new IllegalArgumentException(
                    name
                            + ": "
                            + pixels.length
                            + " pixel bytes do not make "
                            + labels.length
                            + " images of "
                            + rows
                            + "x"
                            + cols);
        }
        this.name = name;
        this.rows = rows;
        this.cols = cols;
        this.pixels = pixels;
        this.labels = labels;
    }

    public String name() {
        return name;
    }

    public int size() {
        return labels.length;
    }

    public int rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    public int pixelsPerImage() {
        return rows * cols;
    }

    public int label(int index) {
        return labels[index];
    }

    public int[] labels() {
        return labels.clone();
    }

    /** The raw 8-bit pixels of one image. */
    public byte[] rawPixels(int index) {
        int n = pixelsPerImage();
        return Arrays.copyOfRange(pixels, index * n, (index + 1) * n);
    }

    /** One image with pixels mapped to [0,1] as value/255. */
    public double[] pixels(int index) {
        int n = pixelsPerImage();
        double[] x = new double[n];
        writePixels(index, x, 0);
        return x;
    }

    /** Writes image {@code index} as value/255 into {@code dest} from {@code offset}. */
    public void writePixels(int index, double[] dest, int offset) {
        int n = pixelsPerImage();
        int base = index * n;
        for (int k = 0; k < n; k++) {
            dest[offset + k] = (pixels[base + k] & 0xff) / 255.0;
        }
    }

    /** Same as {@link #writePixels(int, double[], int)} in float, for training. */
    public void writePixels(int index, float[] dest, int offset) {
        int n = pixelsPerImage();
        int base = index * n;
        for (int k = 0; k < n; k++) {
            dest[offset + k] = (pixels[base + k] & 0xff) / 255.0f;
        }
    }

    /** Raw 8-bit pixels mapped to [0,1] as value/255. */
    public static double[] scale(byte[] raw) {
        double[] x = new double[raw.length];
        for (int k = 0; k < x.length; k++) {
            x[k] = (raw[k] & 0xff) / 255.0;
        }
        return x;
    }

    /** The first {@code count} images (or all, if fewer). */
    public MnistDataset head(int count) {
        int n = Math.min(count, size());
        return new MnistDataset(
                name,
                rows,
                cols,
                Arrays.copyOf(pixels, n * pixelsPerImage()),
                Arrays.copyOf(labels, n));
    }

    /** Count of each label 0-9. */
    public int[] labelCounts() {
        int[] counts = new int[NUM_CLASSES];
        for (int label : labels) {
            counts[label]++;
        }
        return counts;
    }
}
