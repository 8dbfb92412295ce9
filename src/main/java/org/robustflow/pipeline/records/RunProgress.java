package org.robustflow.pipeline.records;

/** The run tracker's run-level state: how many images are done, and whether the run is complete. */
public class RunProgress {
    /** Images in the run (announced, or from the images' expectedTotal); 0 while unknown. */
    public int expected;

    public boolean announced;
    public long imagesDone;
    public long rejected;
    public boolean complete;

    /** Processing time of the last verdict or rejection. */
    public long lastProgressAt;

    /** Rows changed since they were last emitted. */
    public boolean dirty;

    /** The missing images were reported since the last progress. */
    public boolean stallReported;

    /** When the state of a complete run is dropped; 0 while running. */
    public long cleanupAt;

    public RunProgress() {}
}
