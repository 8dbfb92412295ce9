package org.robustflow.pipeline.records;

/**
 * What the run tracker learns about a run besides its verdicts: the run was announced (with its
 * image count), or one of its images was rejected.
 */
public class RunSignal {
    /** What happened. */
    public enum Kind {
        ANNOUNCED,
        REJECTED
    }

    public String runId;
    public Kind kind;

    /** ANNOUNCED: images in the run (ids 0..imageCount-1). */
    public int imageCount;

    /** REJECTED: the image's id, -1 when even that could not be read. */
    public long imageId = -1;

    /** REJECTED: why. */
    public String reason;

    public RunSignal() {}

    public static RunSignal announced(String runId, int imageCount) {
        RunSignal s = new RunSignal();
        s.runId = runId;
        s.kind = Kind.ANNOUNCED;
        s.imageCount = imageCount;
        return s;
    }

    public static RunSignal rejected(String runId, long imageId, int imageCount, String reason) {
        RunSignal s = new RunSignal();
        s.runId = runId;
        s.kind = Kind.REJECTED;
        s.imageId = imageId;
        s.imageCount = imageCount;
        s.reason = reason;
        return s;
    }

    @Override
    public String toString() {
        return runId + " " + kind + (kind == Kind.REJECTED ? " image " + imageId : "");
    }
}
