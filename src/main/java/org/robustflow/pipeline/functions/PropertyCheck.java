package org.robustflow.pipeline.functions;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.streaming.api.functions.async.ResultFuture;
import org.apache.flink.streaming.api.functions.async.RichAsyncFunction;

import org.robustflow.attack.Pgd;
import org.robustflow.avro.ModelSnapshot;
import org.robustflow.model.ModelIo;
import org.robustflow.model.Network;
import org.robustflow.pipeline.records.PropertyOutcome;
import org.robustflow.pipeline.records.PropertyTask;
import org.robustflow.spec.Property;
import org.robustflow.spec.VnnlibReader;
import org.robustflow.verify.PropertyVerifier;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decides one property with {@link PropertyVerifier} (the CLI's {@code verify}) on solver threads
 * of its own, so a property's time limit never blocks the task thread. A sat answer is re-checked
 * by our forward pass before it leaves; one that does not re-check, an unreadable property, or one
 * that does not fit the model is answered "error" with the reason.
 */
public final class PropertyCheck extends RichAsyncFunction<PropertyTask, PropertyOutcome> {
    private static final long serialVersionUID = 1L;

    private final int threads;
    private transient ExecutorService solvers;
    private transient VersionCache<Network> networks;

    public PropertyCheck(int threads) {
        this.threads = threads;
    }

    @Override
    public void open(OpenContext context) {
        AtomicInteger n = new AtomicInteger();
        solvers =
                Executors.newFixedThreadPool(
                        threads,
                        r -> {
                            Thread t = new Thread(r, "property-solver-" + n.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        networks = new VersionCache<>();
    }

    @Override
    public void close() {
        if (solvers != null) {
            solvers.shutdownNow();
        }
    }

    @Override
    public void asyncInvoke(PropertyTask task, ResultFuture<PropertyOutcome> result) {
        if (task.error != null) {
            result.complete(List.of(new PropertyOutcome(task, "error", task.error, 0, null, null)));
            return;
        }
        solvers.submit(() -> result.complete(List.of(decide(task))));
    }

    @Override
    public void timeout(PropertyTask task, ResultFuture<PropertyOutcome> result) {
        result.complete(List.of(new PropertyOutcome(task, "timeout", "", 0, null, null)));
    }

    /** The answer for one task; never throws. */
    PropertyOutcome decide(PropertyTask task) {
        long start = System.nanoTime();
        try {
            Network net =
                    networks.get(
                            task.modelVersion,
                            v -> {
                                try {
                                    return ModelIo.toNetwork(
                                            ModelSnapshot.fromByteBuffer(
                                                    ByteBuffer.wrap(task.snapshot)));
                                } catch (java.io.IOException e) {
                                    throw new java.io.UncheckedIOException(e);
                                }
                            });
            Property property = VnnlibReader.parse(task.vnnlib, task.propertyId);
            PropertyVerifier verifier = new PropertyVerifier(net, Pgd.Settings.defaults());
            PropertyVerifier.Result r = verifier.verify(property, task.timeoutMs);
            double seconds = (System.nanoTime() - start) / 1e9;
            if (r.outcome() == PropertyVerifier.Outcome.SAT) {
                if (!verifier.recheck(property, r.counterexample())) {
                    return new PropertyOutcome(
                            task, "error", "counterexample does not re-check", seconds, null, null);
                }
                return new PropertyOutcome(
                        task, "sat", r.method(), seconds, r.counterexample(), r.outputs());
            }
            return new PropertyOutcome(task, r.outcome().word(), r.method(), seconds, null, null);
        } catch (RuntimeException e) {
            return new PropertyOutcome(
                    task,
                    "error",
                    e.getClass().getSimpleName() + ": " + e.getMessage(),
                    (System.nanoTime() - start) / 1e9,
                    null,
                    null);
        }
    }
}
