package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.runtime.state.FunctionInitializationContext;

import org.robustflow.pipeline.records.ModelEvent;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model versions one operator instance holds: the newest, and superseded ones while tasks still
 * name them, so it is bounded by what is in use, not by how many versions the job has seen.
 * Checkpointed as a union list written by instance 0 alone (every instance gets every model, in the
 * same order); after a restore, an instance whose tasks still named a version instance 0 had
 * dropped decides them under the newest.
 *
 * <p>A superseded version that no task has named for {@code retentionMs} is dropped and its name
 * remembered (the last {@link #FORGOTTEN_KEPT}): a task that names it later is decided under the
 * newest version, and its verdict says so. A version never seen is one still on its way: its tasks
 * wait.
 */
final class ModelTable {
    static final int FORGOTTEN_KEPT = 64;

    private final String stateName;
    private final long retentionMs;
    private final LinkedHashMap<String, ModelEvent> held = new LinkedHashMap<>();
    private final Map<String, Long> lastUsed = new LinkedHashMap<>();
    private final Map<String, Boolean> forgotten = lru(FORGOTTEN_KEPT);
    private String latest;
    private String lastOffered;
    private long lastSweep;
    private ListState<ModelEvent> state;

    /**
     * @param retentionMs keep a superseded version this long after a task last named it; 0 keeps
     *     only the newest
     */
    ModelTable(String stateName, long retentionMs) {
        this.stateName = stateName;
        this.retentionMs = retentionMs;
    }

    private static Map<String, Boolean> lru(int capacity) {
        return new LinkedHashMap<>(16, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                return size() > capacity;
            }
        };
    }

    /** Restores the table (instance 0's, as of the checkpoint). Models first, newest last. */
    void initialize(FunctionInitializationContext ctx, long now) throws Exception {
        state =
                ctx.getOperatorStateStore()
                        .getUnionListState(
                                new ListStateDescriptor<>(
                                        stateName, TypeInformation.of(ModelEvent.class)));
        if (ctx.isRestored()) {
            for (ModelEvent m : state.get()) {
                if (m.snapshot == null) {
                    forgotten.put(m.version, true);
                } else if (!held.containsKey(m.version)) {
                    accept(m, now);
                }
            }
            lastOffered = latest;
        }
    }

    /** Writes the table; only instance 0 does, the others would write the same. */
    void snapshot(int subtask) throws Exception {
        List<ModelEvent> out = new ArrayList<>();
        if (subtask == 0) {
            for (String v : forgotten.keySet()) {
                out.add(new ModelEvent(v, null));
            }
            out.addAll(held.values()); // newest last
        }
        state.update(out);
    }

    /**
     * Whether a model message is new here, not another copy of the one before: an instance gets
     * each model once per key group it owns, one copy after the other ({@link ModelFanout}).
     */
    boolean isNew(String version) {
        boolean isNew = !version.equals(lastOffered);
        lastOffered = version;
        return isNew;
    }

    /** Takes a valid model as the newest. */
    void accept(ModelEvent model, long now) {
        ModelEvent copy = new ModelEvent(model.version, model.snapshot);
        held.remove(model.version); // re-inserted last: newest last
        held.put(model.version, copy);
        lastUsed.put(model.version, now);
        forgotten.remove(model.version);
        latest = model.version;
        sweep(now, true);
    }

    ModelEvent latest() {
        return latest == null ? null : held.get(latest);
    }

    /**
     * The model to decide a task naming {@code version} with: that version, or the newest if that
     * one was dropped; null while it has not arrived.
     */
    ModelEvent forTask(String version, long now) {
        ModelEvent m = held.get(version);
        if (m != null) {
            lastUsed.put(version, now);
        } else if (forgotten.containsKey(version)) {
            m = latest();
        }
        sweep(now, false);
        return m;
    }

    /** Drops superseded versions idle for longer than the retention (at most once a second). */
    private void sweep(long now, boolean force) {
        if (!force && now - lastSweep < 1_000) {
            return;
        }
        lastSweep = now;
        Iterator<Map.Entry<String, ModelEvent>> it = held.entrySet().iterator();
        while (it.hasNext()) {
            String v = it.next().getKey();
            if (!v.equals(latest) && now - lastUsed.getOrDefault(v, now) >= retentionMs) {
                it.remove();
                lastUsed.remove(v);
                forgotten.put(v, true);
            }
        }
    }

    /** Versions held, newest last. */
    List<String> versions() {
        return new ArrayList<>(held.keySet());
    }
}
