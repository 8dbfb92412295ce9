package org.robustflow.milp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small network as a DAG of input, affine, relu and max nodes, with a linear objective to
 * minimise; the property "objective &gt; 0" holds when the minimum over the input box is positive.
 *
 * <p>Format milp-dag/1 (nodes in topological order):
 *
 * <pre>{@code
 * {"format":"milp-dag/1",
 *  "nodes":[{"id":"x1","op":"input","lower":0,"upper":1},
 *           {"id":"x3","op":"affine","terms":{"x1":1,"x2":1},"constant":0},
 *           {"id":"x5","op":"relu","input":"x3"},
 *           {"id":"x7","op":"max","inputs":["x3","x4"]}],
 *  "minimize":{"terms":{"x9":1,"x10":-1},"constant":0}}
 * }</pre>
 */
public final class PropertyNetwork {
    /** Node kinds. */
    public enum Op {
        INPUT,
        AFFINE,
        RELU,
        MAX
    }

    /** One node; unused fields are empty. */
    public record Node(
            String id,
            Op op,
            double lower,
            double upper,
            Map<String, Double> terms,
            double constant,
            List<String> inputs) {}

    private final List<Node> nodes;
    private final Map<String, Double> objective;
    private final double objectiveConstant;

    PropertyNetwork(List<Node> nodes, Map<String, Double> objective, double objectiveConstant) {
        this.nodes = List.copyOf(nodes);
        this.objective = Map.copyOf(objective);
        this.objectiveConstant = objectiveConstant;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Double> objective() {
        return objective;
    }

    public double objectiveConstant() {
        return objectiveConstant;
    }

    /** Parses milp-dag/1; errors name the node and the field at fault. */
    public static PropertyNetwork read(InputStream in) throws IOException {
        JsonNode root = new ObjectMapper().readTree(in);
        if (root == null || !"milp-dag/1".equals(root.path("format").asText())) {
            throw new IOException("\"format\" must be \"milp-dag/1\"");
        }
        List<Node> nodes = new ArrayList<>();
        Map<String, Node> seen = new LinkedHashMap<>();
        for (JsonNode n : root.path("nodes")) {
            String id = n.path("id").asText("");
            if (id.isEmpty() || seen.containsKey(id)) {
                throw new IOException("node ids must be unique and non-empty: '" + id + "'");
            }
            Op op;
            try {
                op = Op.valueOf(n.path("op").asText("").toUpperCase());
            } catch (IllegalArgumentException e) {
                throw new IOException("node " + id + ": op must be input, affine, relu or max");
            }
            Node node =
                    switch (op) {
                        case INPUT -> {
                            double lo = number(n, "lower", id);
                            double hi = number(n, "upper", id);
                            if (lo > hi) {
                                throw new IOException(
                                        "node " + id + ": lower " + lo + " > upper " + hi);
                            }
                            yield new Node(id, op, lo, hi, Map.of(), 0, List.of());
                        }
                        case AFFINE ->
                                new Node(
                                        id,
                                        op,
                                        0,
                                        0,
                                        terms(n.path("terms"), id, seen),
                                        n.path("constant").asDouble(0),
                                        List.of());
                        case RELU ->
                                new Node(
                                        id,
                                        op,
                                        0,
                                        0,
                                        Map.of(),
                                        0,
                                        List.of(reference(n.path("input").asText(""), id, seen)));
                        case MAX -> {
                            List<String> inputs = new ArrayList<>();
                            for (JsonNode ref : n.path("inputs")) {
                                inputs.add(reference(ref.asText(), id, seen));
                            }
                            if (inputs.isEmpty()) {
                                throw new IOException("node " + id + ": max needs inputs");
                            }
                            yield new Node(id, op, 0, 0, Map.of(), 0, inputs);
                        }
                    };
            nodes.add(node);
            seen.put(id, node);
        }
        JsonNode minimize = root.path("minimize");
        if (!minimize.isObject()) {
            throw new IOException(
                    "\"minimize\" must be an object with \"terms\" (and an optional \"constant\")");
        }
        return new PropertyNetwork(
                nodes,
                terms(minimize.path("terms"), "minimize", seen),
                minimize.path("constant").asDouble(0));
    }

    /**
     * Sound interval bounds of every node, by interval arithmetic in topological order, widened
     * outward.
     */
    public Map<String, double[]> intervalBounds() {
        Map<String, double[]> b = new LinkedHashMap<>();
        for (Node n : nodes) {
            double lo;
            double hi;
            switch (n.op()) {
                case INPUT -> {
                    lo = n.lower();
                    hi = n.upper();
                }
                case AFFINE -> {
                    lo = n.constant();
                    hi = n.constant();
                    double magnitude = Math.abs(n.constant());
                    for (Map.Entry<String, Double> t : n.terms().entrySet()) {
                        double[] in = b.get(t.getKey());
                        double w = t.getValue();
                        lo += w >= 0 ? w * in[0] : w * in[1];
                        hi += w >= 0 ? w * in[1] : w * in[0];
                        magnitude += Math.abs(w) * Math.max(Math.abs(in[0]), Math.abs(in[1]));
                    }
                    // Rounding guard: a sum of m products errs by at most gamma_m times the sum of
                    // their magnitudes (Higham eq. 3.5), whatever the cancellation; doubled, plus
                    // an underflow term. Relative to the result it would fail on cancellation.
                    double guard = 2 * (n.terms().size() + 2) * 0x1p-53 * magnitude * 1.01 + 1e-300;
                    lo -= guard;
                    hi += guard;
                }
                case RELU -> {
                    double[] in = b.get(n.inputs().get(0));
                    lo = Math.max(0, in[0]);
                    hi = Math.max(0, in[1]);
                }
                default -> {
                    lo = Double.NEGATIVE_INFINITY;
                    hi = Double.NEGATIVE_INFINITY;
                    for (String in : n.inputs()) {
                        lo = Math.max(lo, b.get(in)[0]);
                        hi = Math.max(hi, b.get(in)[1]);
                    }
                }
            }
            b.put(n.id(), new double[] {lo, hi});
        }
        return b;
    }

    /** Every node's value at an input point, in double. */
    public Map<String, Double> evaluate(Map<String, Double> inputs) {
        Map<String, Double> v = new LinkedHashMap<>();
        for (Node n : nodes) {
            double value =
                    switch (n.op()) {
                        case INPUT -> inputs.get(n.id());
                        case AFFINE -> {
                            double s = n.constant();
                            for (Map.Entry<String, Double> t : n.terms().entrySet()) {
                                s += t.getValue() * v.get(t.getKey());
                            }
                            yield s;
                        }
                        case RELU -> Math.max(0, v.get(n.inputs().get(0)));
                        case MAX -> n.inputs().stream().mapToDouble(v::get).max().orElseThrow();
                    };
            v.put(n.id(), value);
        }
        return v;
    }

    /** The objective at given node values. */
    public double objectiveAt(Map<String, Double> values) {
        double s = objectiveConstant;
        for (Map.Entry<String, Double> t : objective.entrySet()) {
            s += t.getValue() * values.get(t.getKey());
        }
        return s;
    }

    private static Map<String, Double> terms(JsonNode terms, String where, Map<String, Node> seen)
            throws IOException {
        if (!terms.isObject() || terms.isEmpty()) {
            throw new IOException(where + ": \"terms\" must map earlier node ids to coefficients");
        }
        Map<String, Double> out = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = terms.fields();
        while (it.hasNext()) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isNumber()) {
                throw new IOException(
                        where + ": coefficient of " + e.getKey() + " is not a number");
            }
            out.put(reference(e.getKey(), where, seen), e.getValue().doubleValue());
        }
        return out;
    }

    private static String reference(String ref, String where, Map<String, Node> seen)
            throws IOException {
        if (!seen.containsKey(ref)) {
            throw new IOException(where + ": '" + ref + "' is not an earlier node");
        }
        return ref;
    }

    private static double number(JsonNode n, String field, String id) throws IOException {
        if (!n.path(field).isNumber()) {
            throw new IOException("node " + id + ": \"" + field + "\" must be a number");
        }
        return n.path(field).doubleValue();
    }
}
