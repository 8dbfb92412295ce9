package org.robustflow.model.onnx;

/**
 * An ONNX file that {@link OnnxImporter} cannot turn into a network: unreadable (not gzip, not an
 * ONNX protobuf, truncated) or outside the supported operators and graph shapes. The message names
 * the file and, where one is at fault, the node (name, index and op type).
 */
public final class OnnxImportException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** An import error with the given message. */
    public OnnxImportException(String message) {
        super(message);
    }

    /** An import error caused by a lower-level failure (gzip, protobuf). */
    public OnnxImportException(String message, Throwable cause) {
        super(message, cause);
    }
}
