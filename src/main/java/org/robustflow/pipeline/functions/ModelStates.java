package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.OutputTag;

import org.robustflow.pipeline.records.DeadLetterEvent;
import org.robustflow.pipeline.records.ModelEvent;

/** State descriptors and tags shared by the operators that receive the broadcast model stream. */
public final class ModelStates {
    /** Model versions by version string; {@link #LATEST} names the one new images use. */
    public static final MapStateDescriptor<String, ModelEvent> MODELS =
            new MapStateDescriptor<>("models", Types.STRING, TypeInformation.of(ModelEvent.class));

    /** Key in {@link #MODELS} of the newest valid model. */
    public static final String LATEST = "__latest__";

    public static final OutputTag<DeadLetterEvent> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetterEvent.class));

    /** Source name of dead letters for models that do not fit. */
    public static final String MODELS_SOURCE = "models";

    private ModelStates() {}
}
