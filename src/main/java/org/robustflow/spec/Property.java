package org.robustflow.spec;

import java.util.List;

/**
 * A property as read from a VNN-LIB file: one or more regions, each an input box with the output
 * violation that is searched for in it. The property is violated ("sat") when some region has a
 * counterexample; it holds ("unsat") when none has.
 */
public record Property(List<Region> regions) {
    /** One input box and the output violation searched for inside it. */
    public record Region(Box input, OutputSpec violation) {}

    public Property {
        if (regions.isEmpty()) {
            throw new IllegalArgumentException("a property needs at least one region");
        }
        regions = List.copyOf(regions);
    }
}
