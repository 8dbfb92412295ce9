package org.robustflow.pipeline.functions;

import org.robustflow.avro.ModelSnapshot;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.ModelEvent;

import java.nio.ByteBuffer;

/**
 * Decodes model events into networks once per operator instance. Not state: a cache rebuilt from
 * the broadcast state after a restore.
 */
final class ModelRegistry {
    private final VersionCache<Network> byVersion = new VersionCache<>();

    /**
     * The network of an event, decoded on first use. Keyed by version, which is sound because the
     * version is the hash of the weights, computed on receipt ({@code ModelDeserializer}).
     */
    Network get(ModelEvent event) {
        return byVersion.get(event.version, v -> decode(event));
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
        Network mlp = ModelIo.toNetwork(snapshot);
        if (!mlp.version().equals(event.version)) {
            throw new IllegalArgumentException(
                    "model event says version "
                            + event.version
                            + " but its weights hash to "
                            + mlp.version());
        }
        return mlp;
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
