package org.robustflow.spec;

/**
 * A VNN-LIB file that cannot be read: malformed, or outside the subset {@link VnnlibReader}
 * supports. The message starts with {@code source:line:column:} (1-based), the way compilers
 * report, then says what was found and what was expected.
 */
public final class VnnlibException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final String source;
    private final int line;
    private final int column;

    /** An error at {@code line}:{@code column} (1-based) of {@code source}. */
    public VnnlibException(String source, int line, int column, String message) {
        super(source + ":" + line + ":" + column + ": " + message);
        this.source = source;
        this.line = line;
        this.column = column;
    }

    /** The file (or other source) name. */
    public String source() {
        return source;
    }

    /** 1-based line of the offending text. */
    public int line() {
        return line;
    }

    /** 1-based column of the offending text. */
    public int column() {
        return column;
    }
}
