package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.util.Collector;

import org.robustflow.pipeline.records.ModelEvent;

/**
 * Sends every model to every instance of a keyed operator over a keyed edge: one copy per key
 * group, each with a routing key that hashes into that group.
 *
 * <p>Why not {@code broadcast()}: Flink checkpoints every input of an operator with a broadcast
 * input aligned, so each barrier would wait behind all the (image, eps) tasks queued in front of
 * the slow bound and attack stage. Over keyed edges the barriers overtake them (unaligned
 * checkpoints). Each instance owns at least one key group, so it gets at least one copy whatever
 * its parallelism; {@link ModelTable} drops the extra ones. Run with parallelism 1, so every
 * instance sees the models in one order.
 */
public final class ModelFanout implements FlatMapFunction<ModelEvent, ModelEvent> {
    private static final long serialVersionUID = 1L;

    private final String[] keys;

    /**
     * @param keyGroups the max parallelism of the operators the copies go to
     */
    public ModelFanout(int keyGroups) {
        this.keys = routingKeys(keyGroups);
    }

    /** The key selector of the copies. */
    public static String routingKey(ModelEvent model) {
        return model.routingKey == null ? "" : model.routingKey;
    }

    /** One key per key group: keys[g] hashes into group g. */
    static String[] routingKeys(int keyGroups) {
        String[] keys = new String[keyGroups];
        int found = 0;
        for (int i = 0; found < keyGroups; i++) {
            String key = "model-copy-" + i;
            int group = KeyGroupRangeAssignment.assignToKeyGroup(key, keyGroups);
            if (keys[group] == null) {
                keys[group] = key;
                found++;
            }
        }
        return keys;
    }

    @Override
    public void flatMap(ModelEvent model, Collector<ModelEvent> out) {
        for (String key : keys) {
            ModelEvent copy = new ModelEvent(model.version, model.snapshot);
            copy.routingKey = key;
            out.collect(copy);
        }
    }
}
