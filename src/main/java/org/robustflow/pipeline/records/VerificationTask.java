package org.robustflow.pipeline.records;

/** One unit of work: an image at one eps under one model version. */
public class VerificationTask {
    public String runId;
    public long imageId;
    public int label;
    public byte[] pixels;
    public double eps;
    public String modelVersion;
    public int expectedTotal;

    public VerificationTask() {}

    public VerificationTask(ImageEvent image, double eps, String modelVersion) {
        this.runId = image.runId;
        this.imageId = image.imageId;
        this.label = image.label;
        this.pixels = image.pixels;
        this.eps = eps;
        this.modelVersion = modelVersion;
        this.expectedTotal = image.expectedTotal;
    }

    /** The key the exact and bound operators partition by: run/image/eps. */
    public String key() {
        return runId + "/" + imageId + "/" + eps;
    }

    public double[] scaledPixels() {
        return org.robustflow.data.MnistDataset.scale(pixels);
    }
}
