package org.robustflow.testutils;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The VNN-COMP 2022 mnist_fc benchmark from the shared folder: {@code shared/bench/} beside the
 * checkout (CI) or beside one of its parent folders (a worktree under {@code wt/}).
 */
public final class Bench {
    private static final Path RELATIVE = Path.of("shared", "bench", "vnncomp2022-mnist_fc");

    private Bench() {}

    /** The benchmark folder, or null when no parent folder of the working directory has it. */
    public static Path mnistFc() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null) {
            Path candidate = dir.resolve(RELATIVE);
            if (Files.isDirectory(candidate)) {
                return candidate;
            }
            dir = dir.getParent();
        }
        return null;
    }
}
