package org.robustflow.pipeline.functions;

import org.robustflow.avro.ModelSnapshot;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

/**
 * Decodes model events into networks once per operator instance. Not state: a cache rebuilt from
 * the broadcast state after a restore.
 */
final class ModelRegistry {
    private final Map<String, Network> byVersion = new HashMap<>();

    /** The network of an event, decoded on first use. */
    Network get(ModelEvent event) {
        return byVersion.computeIfAbsent(event.version, v -> decode(event));
    }

    /**
     * Decodes and checks a model event.
     *
     * @throws IllegalArgumentException with the reason if the bytes are not a model or its shape
     *     does not fit
     */
    static Network decode(ModelEvent event) {
        ModelSnapshot snapshot;
        try {
            snapshot = ModelSnapshot.fromByteBuffer(ByteBuffer.wrap(event.snapshot));
        } catch (Exception e) {
            throw new IllegalArgumentException("undecodable model: " + e.getMessage(), e);
        }
        return ModelIo.toMlp(snapshot);
    }

    /**
     * Why {@code mlp} cannot classify images of {@code inputSize} pixels into 10 classes, or null.
     */
    static String shapeProblem(Network mlp, int inputSize) {
        if (mlp.inputSize() != inputSize) {
            return "model "
                    + mlp.architecture()
                    + " takes "
                    + mlp.inputSize()
                    + " inputs, images have "
                    + inputSize;
        }
        if (mlp.numClasses() != 10) {
            return "model "
                    + mlp.architecture()
                    + " has "
                    + mlp.numClasses()
                    + " outputs, not 10 classes";
        }
        return null;
    }
}
