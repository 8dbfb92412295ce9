package org.robustflow.testutils;

import org.robustflow.data.MnistDataset;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ImageEvent;
import org.robustflow.pipeline.records.ModelEvent;

import java.util.ArrayList;
import java.util.List;

/** Records for pipeline tests, built from real MNIST and real models. */
public final class PipelineFixtures {
    private PipelineFixtures() {}

    public static ModelEvent modelEvent(Network mlp) {
        return ModelEvent.of(ModelIo.toSnapshot(mlp, null, null, "test"));
    }

    public static ImageEvent image(String runId, int index, int expectedTotal) {
        MnistDataset test = Fixtures.mnistTest();
        return new ImageEvent(
                runId, index, test.label(index), 28, 28, test.rawPixels(index), expectedTotal);
    }

    /** The first {@code count} test images as one run. */
    public static List<ImageEvent> images(String runId, int count) {
        List<ImageEvent> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            images.add(image(runId, i, count));
        }
        return images;
    }
}
