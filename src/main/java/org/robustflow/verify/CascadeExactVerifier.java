package org.robustflow.verify;

import org.robustflow.attack.Pgd;
import org.robustflow.bounds.CrownPropagator;
import org.robustflow.bounds.Verdict;
import org.robustflow.milp.MilpResult;
import org.robustflow.milp.MilpVerifier;
import org.robustflow.model.Network;
import org.robustflow.spec.Box;
import org.robustflow.spec.OutputSpec;

/**
 * The complete stages of the {@link Cascade} (a stronger attack, then branch and bound with
 * alpha/beta-CROWN) behind the streaming job's exact-stage interface, so the job decides what the
 * bounds and the first attack left open with the same code as {@code certify --complete}. Only the
 * margins the bounds did not prove are searched.
 */
public final class CascadeExactVerifier implements MilpVerifier {
    private static final long serialVersionUID = 1L;

    private final Pgd.Settings attack;
    private final long maxDomains;

    /** The cascade of the last network seen; solver threads share it (it holds no query state). */
    private transient volatile Cascade cascade;

    /** No domain budget: the time limit alone ends a query. */
    public CascadeExactVerifier(Pgd.Settings attack) {
        this(attack, 0);
    }

    /**
     * @param maxDomains subdomains per query (0: no limit); with a budget that ends queries well
     *     before the time limit, the verdicts do not depend on the load of the machine
     */
    public CascadeExactVerifier(Pgd.Settings attack, long maxDomains) {
        this.attack = attack;
        this.maxDomains = maxDomains;
    }

    @Override
    public String method() {
        return "bab";
    }

    @Override
    public MilpResult verify(
            Network network,
            double[] x,
            int label,
            double eps,
            CrownPropagator.RowBounds bounds,
            long timeLimitMs) {
        long start = System.nanoTime();
        Cascade c = cascade;
        if (c == null || c.model() != network) {
            c =
                    new Cascade(
                            network,
                            Cascade.Settings.complete(attack, timeLimitMs)
                                    .withMaxDomains(maxDomains));
            cascade = c;
        }
        OutputSpec spec = OutputSpec.robustness(network.numClasses(), label);
        // Disjunct d of the robustness spec is class d, skipping the label.
        boolean[] open = new boolean[spec.disjuncts().size()];
        int searched = 0;
        int d = 0;
        for (int j = 0; j < network.numClasses(); j++) {
            if (j != label) {
                open[d] = !(bounds.marginLower()[j] > 0);
                searched += open[d] ? 1 : 0;
                d++;
            }
        }
        Cascade.Answer a =
                c.decide(
                        Box.around(x, eps),
                        spec,
                        open,
                        true,
                        System.nanoTime() + timeLimitMs * 1_000_000L);
        long micros = (System.nanoTime() - start) / 1000;
        return new MilpResult(
                a.verdict(),
                a.witness(),
                a.verdict() == Verdict.FALSIFIED ? network.predict(a.witness()) : -1,
                searched,
                bounds.unstableRelus(),
                micros,
                a.method());
    }
}
