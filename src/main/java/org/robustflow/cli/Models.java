package org.robustflow.cli;

import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.model.onnx.OnnxImporter;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads a network from any of the formats the CLI takes, chosen by file name: ONNX ({@code .onnx},
 * {@code .onnx.gz}), mlp-json/1 ({@code .json}), or our Avro model file (anything else).
 */
final class Models {
    private Models() {}

    static boolean isOnnx(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".onnx") || name.endsWith(".onnx.gz");
    }

    static Network read(Path file) throws IOException {
        String name = file.getFileName().toString();
        if (isOnnx(file)) {
            return OnnxImporter.read(file);
        }
        if (name.endsWith(".json")) {
            try (InputStream in = Files.newInputStream(file)) {
                return ModelIo.readJson(in);
            }
        }
        return ModelIo.toNetwork(ModelIo.read(file));
    }

    /** {@code file}, or {@code file.gz} when only the compressed copy exists. */
    static Path existing(Path file) {
        if (!Files.exists(file)) {
            Path gz = file.resolveSibling(file.getFileName() + ".gz");
            if (Files.exists(gz)) {
                return gz;
            }
        }
        return file;
    }
}
