package org.robustflow.data;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A data file that cannot be read as what it claims to be; the message names the file and the
 * problem.
 */
public class InvalidDataException extends IOException {
    private static final long serialVersionUID = 1L;

    public InvalidDataException(Path file, String problem) {
        super(file + ": " + problem);
    }
}
