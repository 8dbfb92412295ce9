package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.util.OutputTag;

import org.robustflow.pipeline.records.DeadLetterEvent;

/** Tags shared by the operators that receive the models. */
public final class ModelStates {
    public static final OutputTag<DeadLetterEvent> DEAD_LETTERS =
            new OutputTag<>("dead-letters", TypeInformation.of(DeadLetterEvent.class));

    /** Source name of dead letters for models that do not fit. */
    public static final String MODELS_SOURCE = "models";

    private ModelStates() {}
}
