package org.robustflow.pipeline.records;

/**
 * An image inside the job: raw 8-bit pixels, label, and the run it belongs to. A Flink POJO, so it
 * is serialized without Kryo; the Avro record {@code MnistImage} is only the Kafka format.
 */
public class ImageEvent {
    public String runId;
    public long imageId;
    public int label;
    public int width;
    public int height;
    public byte[] pixels;

    /** Images in the run, 0 if unknown. */
    public int expectedTotal;

    public ImageEvent() {}

    public ImageEvent(
            String runId,
            long imageId,
            int label,
            int width,
            int height,
            byte[] pixels,
            int expectedTotal) {
        this.runId = runId;
        this.imageId = imageId;
        this.label = label;
        this.width = width;
        this.height = height;
        this.pixels = pixels;
        this.expectedTotal = expectedTotal;
    }

    /**
     * Why this image cannot be verified by a model taking {@code inputSize} pixels and 10 classes,
     * or null.
     */
    public String problem(int inputSize) {
        if (runId == null || runId.isEmpty()) {
            return "missing run id";
        }
        if (pixels == null || (long) width * height != pixels.length) {
            return "pixel count "
                    + (pixels == null ? 0 : pixels.length)
                    + " does not match "
                    + width
                    + "x"
                    + height;
        }
        if (pixels.length != inputSize) {
            return "image has " + pixels.length + " pixels, the model takes " + inputSize;
        }
        if (label < 0 || label > 9) {
            return "label " + label + " is out of range 0-9";
        }
        return null;
    }
}
