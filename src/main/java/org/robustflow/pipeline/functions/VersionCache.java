package org.robustflow.pipeline.functions;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Per-model-version objects (decoded networks, certifiers, attacks) for the few versions in use:
 * least recently used beyond {@link #CAPACITY} are dropped, and rebuilt if a version comes back.
 * Not state, so a job that has seen many versions does not keep all of them in memory.
 */
final class VersionCache<V> {
    /** Versions kept: the newest plus those a run still in flight may name. */
    static final int CAPACITY = 4;

    private final Map<String, V> byVersion =
            new LinkedHashMap<>(8, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, V> eldest) {
                    return size() > CAPACITY;
                }
            };

    V get(String version, Function<String, V> build) {
        V value = byVersion.get(version);
        if (value == null) {
            value = build.apply(version);
            byVersion.put(version, value);
        }
        return value;
    }

    int size() {
        return byVersion.size();
    }
}
