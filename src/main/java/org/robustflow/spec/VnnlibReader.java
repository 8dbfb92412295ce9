package org.robustflow.spec;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;

/**
 * Reads VNN-LIB properties (the SMT-LIB subset of the VNN-COMP benchmarks) into a {@link Property}.
 *
 * <p>Supported: comments {@code ;} to the end of the line; {@code (declare-const X_i Real)} and
 * {@code (declare-const Y_i Real)} for the inputs and outputs, indices 0..n-1, declared before use;
 * {@code (assert F)} where F is built from {@code and}, {@code or}, {@code <=}, {@code >=}, {@code
 * <}, {@code >} (chains like {@code (<= a b c)} are conjunctions) over linear terms: numbers
 * ({@code 3}, {@code -0.5}, {@code 1e-3}), variables, {@code (+ ...)}, {@code (- a b ...)}, {@code
 * (- a)} and products with at most one non-constant factor. The SMT-LIB commands {@code check-sat},
 * {@code get-model}, {@code set-logic}, {@code set-info}, {@code set-option} and {@code exit} are
 * accepted and ignored.
 *
 * <p>Semantics: the asserts form one conjunction, brought into disjunctive normal form. An atom
 * over a single input against constants bounds that input; atoms over outputs (and constants)
 * become {@code c . y <= bound}. Disjuncts with the same input box become one region whose {@link
 * OutputSpec} has one conjunct per disjunct (mnist_fc's {@code (or (and (>= Y_0 Y_4)) ...)} gives
 * one region with 9 conjuncts); disjuncts with different boxes (ACAS Xu's {@code (or (and X-bounds
 * Y-constraints) ...)}) give one region each. Disjuncts whose input bounds contradict each other
 * are dropped (they contain no point). Every input needs a finite lower and upper bound in every
 * region.
 *
 * <p>Rejected with a {@link VnnlibException} naming file, line and column: malformed s-expressions,
 * unknown or undeclared variables, duplicate declarations, bad numbers, operators outside the
 * subset, atoms mixing inputs and outputs or combining several inputs, non-linear products, missing
 * bounds.
 *
 * <p>Numbers are parsed to the nearest double and arithmetic on constants is in double; only the
 * division of a bound by a coefficient other than 1 or -1 is rounded outward (the box may grow by
 * one ulp, never shrink), so an "unsat" on the box read here is one on the file's box.
 *
 * <pre>{@code
 * Property p = VnnlibReader.read(Path.of("prop_0_0.03.vnnlib.gz"));
 * Box box = p.regions().get(0).input();
 * int label = p.regions().get(0).violation().robustnessLabel();   // 4
 * }</pre>
 */
public final class VnnlibReader {
    /** Deeper nesting is refused rather than risking the stack on hostile input. */
    private static final int MAX_DEPTH = 500;

    /** The DNF is a product of the disjunctions; refuse products that would not fit memory. */
    private static final int MAX_DISJUNCTS = 100_000;

    private static final Pattern NUMBER =
            Pattern.compile("[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?");
    private static final Pattern NUMBER_LIKE = Pattern.compile("[-+]?\\.?\\d.*");
    private static final Pattern VARIABLE = Pattern.compile("([XY])_(0|[1-9]\\d{0,8})");
    private static final List<String> IGNORED_COMMANDS =
            List.of("check-sat", "get-model", "set-logic", "set-info", "set-option", "exit");

    private final String source;
    private final Map<Integer, Atom> inputs = new HashMap<>();
    private final Map<Integer, Atom> outputs = new HashMap<>();

    private VnnlibReader(String source) {
        this.source = source;
    }

    /** Reads a {@code .vnnlib} file, or a gzip-compressed one ({@code .gz} or gzip magic). */
    public static Property read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        boolean gzip = bytes.length >= 2 && (bytes[0] & 0xff) == 0x1f && (bytes[1] & 0xff) == 0x8b;
        if (gzip || file.getFileName().toString().endsWith(".gz")) {
            try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(bytes))) {
                bytes = in.readAllBytes();
            }
        }
        // Invalid UTF-8 becomes U+FFFD, which then fails as an unknown symbol with its position
        // (or is harmless inside a comment).
        return parse(new String(bytes, StandardCharsets.UTF_8), file.toString());
    }

    /** Parses VNN-LIB text; {@code sourceName} prefixes error messages. */
    public static Property parse(String text, String sourceName) {
        VnnlibReader reader = new VnnlibReader(sourceName);
        return reader.interpret(reader.parseExpressions(text), text);
    }

    // ---------------------------------------------------------------- s-expressions

    /** A parsed s-expression with the 1-based position of its first character. */
    private sealed interface Expr permits Atom, Group {
        int line();

        int column();
    }

    /** A symbol or number token. */
    private record Atom(String text, int line, int column) implements Expr {}

    /** A parenthesised list; the position is that of its '('. */
    private record Group(List<Expr> items, int line, int column) implements Expr {}

    private List<Expr> parseExpressions(String text) {
        List<Expr> top = new ArrayList<>();
        Deque<Group> open = new ArrayDeque<>();
        int line = 1;
        int column = 1;
        int i = 0;
        while (i < text.length()) {
            char ch = text.charAt(i);
            if (ch == '\n') {
                line++;
                column = 1;
                i++;
            } else if (Character.isWhitespace(ch)) {
                column++;
                i++;
            } else if (ch == ';') {
                while (i < text.length() && text.charAt(i) != '\n') {
                    i++;
                }
            } else if (ch == '(') {
                if (open.size() >= MAX_DEPTH) {
                    throw error(line, column, "nesting deeper than " + MAX_DEPTH + " levels");
                }
                open.push(new Group(new ArrayList<>(), line, column));
                column++;
                i++;
            } else if (ch == ')') {
                if (open.isEmpty()) {
                    throw error(line, column, "unexpected ')' without a matching '('");
                }
                Group done = open.pop();
                (open.isEmpty() ? top : open.peek().items()).add(done);
                column++;
                i++;
            } else {
                int start = i;
                while (i < text.length() && !isDelimiter(text.charAt(i))) {
                    i++;
                }
                Atom atom = new Atom(text.substring(start, i), line, column);
                column += i - start;
                if (open.isEmpty()) {
                    throw error(atom, "expected '(' at top level, found '" + atom.text() + "'");
                }
                open.peek().items().add(atom);
            }
        }
        if (!open.isEmpty()) {
            Group unclosed = open.getLast();
            throw error(unclosed, "'(' is never closed: expected ')' before the end of the file");
        }
        return top;
    }

    private static boolean isDelimiter(char ch) {
        return ch == '(' || ch == ')' || ch == ';' || Character.isWhitespace(ch);
    }

    // ---------------------------------------------------------------- formulas

    /** A normalised atom: an input bound or an output constraint. */
    private sealed interface Literal permits InputBound, OutputConstraint {
        Expr where();
    }

    /** x_index <= value (upper) or x_index >= value (lower). */
    private record InputBound(int index, boolean upper, double value, Expr where)
            implements Literal {}

    /** sum coefficients[j] y_j <= bound, sparse. */
    private record OutputConstraint(Map<Integer, Double> coefficients, double bound, Expr where)
            implements Literal {}

    /** A formula tree over literals. */
    private sealed interface Formula permits Leaf, And, Or {}

    private record Leaf(Literal literal) implements Formula {}

    private record And(List<Formula> parts, Expr where) implements Formula {}

    private record Or(List<Formula> parts, Expr where) implements Formula {}

    private Property interpret(List<Expr> commands, String text) {
        List<Formula> asserted = new ArrayList<>();
        for (Expr command : commands) {
            Group g = (Group) command;
            if (g.items().isEmpty() || !(g.items().get(0) instanceof Atom head)) {
                throw error(g, "expected a command such as (declare-const ...) or (assert ...)");
            }
            switch (head.text()) {
                case "declare-const" -> declare(g);
                case "assert" -> {
                    expectArity(g, 1, 1, "(assert FORMULA)");
                    asserted.add(formula(g.items().get(1)));
                }
                default -> {
                    if (!IGNORED_COMMANDS.contains(head.text())) {
                        throw error(
                                head,
                                "unknown command '"
                                        + head.text()
                                        + "': expected declare-const or assert");
                    }
                }
            }
        }
        int[] end = endPosition(text);
        if (inputs.isEmpty()) {
            throw error(end[0], end[1], "no input declared: expected (declare-const X_0 Real)");
        }
        if (outputs.isEmpty()) {
            throw error(end[0], end[1], "no output declared: expected (declare-const Y_0 Real)");
        }
        checkContiguous(inputs, "X");
        checkContiguous(outputs, "Y");
        return buildRegions(asserted, end);
    }

    private void declare(Group g) {
        expectArity(g, 2, 2, "(declare-const X_i Real)");
        if (!(g.items().get(1) instanceof Atom name)) {
            throw error(g.items().get(1), "expected a variable name X_i or Y_i");
        }
        Matcher m = VARIABLE.matcher(name.text());
        if (!m.matches()) {
            throw error(
                    name,
                    "cannot declare '"
                            + name.text()
                            + "': expected X_i (input) or Y_i (output), i = 0, 1, ...");
        }
        if (!(g.items().get(2) instanceof Atom sort) || !sort.text().equals("Real")) {
            throw error(g.items().get(2), "expected the sort Real");
        }
        Map<Integer, Atom> declared = m.group(1).equals("X") ? inputs : outputs;
        int index = Integer.parseInt(m.group(2));
        Atom previous = declared.putIfAbsent(index, name);
        if (previous != null) {
            throw error(
                    name,
                    name.text()
                            + " is already declared at line "
                            + previous.line()
                            + ", column "
                            + previous.column());
        }
    }

    private void checkContiguous(Map<Integer, Atom> declared, String prefix) {
        // Unique indices, so they are 0..n-1 exactly when none reaches n.
        int n = declared.size();
        for (Map.Entry<Integer, Atom> e : new TreeMap<>(declared).entrySet()) {
            if (e.getKey() >= n) {
                int missing = 0;
                while (declared.containsKey(missing)) {
                    missing++;
                }
                throw error(
                        e.getValue(),
                        e.getValue().text()
                                + " is declared but "
                                + prefix
                                + "_"
                                + missing
                                + " is not: indices must be 0.."
                                + (n - 1));
            }
        }
    }

    private Formula formula(Expr e) {
        if (!(e instanceof Group g)) {
            throw error(
                    e,
                    "expected a formula (and ...), (or ...), (<= ...) or (>= ...), found '"
                            + ((Atom) e).text()
                            + "'");
        }
        String op = operator(g, "a formula");
        switch (op) {
            case "and", "or" -> {
                expectArity(g, 1, Integer.MAX_VALUE, "(" + op + " F ...)");
                List<Formula> parts = new ArrayList<>();
                for (Expr item : g.items().subList(1, g.items().size())) {
                    parts.add(formula(item));
                }
                return op.equals("and") ? new And(parts, g) : new Or(parts, g);
            }
            // Strict comparisons are read as non-strict: verdicts are about closed sets. An
            // "unsat" for the closed set holds for the open one; a counterexample that lies
            // exactly on such a boundary would need a strict re-check, which this type cannot
            // express.
            case "<=", ">=", "<", ">" -> {
                expectArity(g, 2, Integer.MAX_VALUE, "(" + op + " TERM TERM)");
                List<Linear> terms = new ArrayList<>();
                for (Expr item : g.items().subList(1, g.items().size())) {
                    terms.add(term(item));
                }
                List<Formula> chain = new ArrayList<>();
                for (int k = 0; k + 1 < terms.size(); k++) {
                    // a <= b  is  a - b <= 0;  a >= b  is  b - a <= 0.
                    Linear lessSide = op.startsWith("<") ? terms.get(k) : terms.get(k + 1);
                    Linear moreSide = op.startsWith("<") ? terms.get(k + 1) : terms.get(k);
                    chain.add(new Leaf(literal(lessSide.minus(moreSide), g)));
                }
                return chain.size() == 1 ? chain.get(0) : new And(chain, g);
            }
            default ->
                    throw error(
                            g.items().get(0),
                            "unsupported operator '"
                                    + op
                                    + "' in a formula: expected and, or, <=, >=, <, >");
        }
    }

    /** The literal for {@code e <= 0}. */
    private Literal literal(Linear e, Group where) {
        if (!e.inputs.isEmpty() && !e.outputs.isEmpty()) {
            throw error(
                    where,
                    "unsupported: this comparison mixes inputs (X_"
                            + e.inputs.keySet().iterator().next()
                            + ") and outputs (Y_"
                            + e.outputs.keySet().iterator().next()
                            + "); expected bounds on one X or constraints over Y only");
        }
        if (e.inputs.size() > 1) {
            throw error(
                    where,
                    "unsupported: a linear combination of inputs "
                            + e.inputs.keySet()
                            + "; expected a bound on a single X_i");
        }
        if (e.inputs.size() == 1) {
            Map.Entry<Integer, Double> only = e.inputs.entrySet().iterator().next();
            double a = only.getValue();
            double b = -e.constant;
            double q = b / a;
            if (Math.abs(a) != 1.0 && Math.fma(q, a, -b) < 0) {
                // a*q < b: q lies inside the bound; step one ulp outward (up for an upper
                // bound, a > 0; down for a lower bound, a < 0).
                q = a > 0 ? Math.nextUp(q) : Math.nextDown(q);
            }
            if (!Double.isFinite(q)) {
                throw error(where, "bound on X_" + only.getKey() + " is out of range");
            }
            return new InputBound(only.getKey(), a > 0, q + 0.0, where);
        }
        if (e.outputs.isEmpty()) {
            throw error(where, "comparison without variables: expected X_i or Y_i in it");
        }
        return new OutputConstraint(e.outputs, -e.constant + 0.0, where);
    }

    // ---------------------------------------------------------------- linear terms

    /** A linear expression: sparse coefficients on inputs and outputs plus a constant. */
    private static final class Linear {
        final Map<Integer, Double> inputs = new TreeMap<>();
        final Map<Integer, Double> outputs = new TreeMap<>();
        double constant;

        boolean isConstant() {
            return inputs.isEmpty() && outputs.isEmpty();
        }

        Linear plus(Linear other, double sign) {
            Linear r = copy();
            r.constant += sign * other.constant;
            other.inputs.forEach((k, v) -> r.inputs.merge(k, sign * v, Double::sum));
            other.outputs.forEach((k, v) -> r.outputs.merge(k, sign * v, Double::sum));
            return r;
        }

        Linear times(double factor) {
            Linear r = new Linear();
            r.constant = constant * factor;
            inputs.forEach((k, v) -> r.inputs.put(k, v * factor));
            outputs.forEach((k, v) -> r.outputs.put(k, v * factor));
            return r;
        }

        Linear copy() {
            Linear r = new Linear();
            r.constant = constant;
            r.inputs.putAll(inputs);
            r.outputs.putAll(outputs);
            return r;
        }

        /** this - other, with cancelled variables removed; the caller checks the range. */
        Linear minus(Linear other) {
            return plus(other, -1).pruned();
        }

        /** Drops zero coefficients ((- Y_0 Y_0) has no variable). */
        Linear pruned() {
            inputs.values().removeIf(v -> v == 0.0);
            outputs.values().removeIf(v -> v == 0.0);
            return this;
        }

        boolean isFinite() {
            return Double.isFinite(constant)
                    && inputs.values().stream().allMatch(Double::isFinite)
                    && outputs.values().stream().allMatch(Double::isFinite);
        }
    }

    private Linear term(Expr e) {
        Linear result = e instanceof Atom a ? atomTerm(a) : groupTerm((Group) e);
        if (!result.isFinite()) {
            throw error(e, "value out of the range of double");
        }
        return result.pruned();
    }

    private Linear atomTerm(Atom a) {
        String t = a.text();
        Linear r = new Linear();
        if (NUMBER.matcher(t).matches()) {
            r.constant = Double.parseDouble(t);
            return r;
        }
        if (NUMBER_LIKE.matcher(t).matches()) {
            throw error(a, "bad number '" + t + "'");
        }
        Matcher m = VARIABLE.matcher(t);
        if (!m.matches()) {
            throw error(
                    a, "unknown symbol '" + t + "': expected a number or a declared X_i or Y_i");
        }
        boolean input = m.group(1).equals("X");
        int index = Integer.parseInt(m.group(2));
        if (!(input ? inputs : outputs).containsKey(index)) {
            throw error(a, "undeclared variable " + t + ": declare it with (declare-const)");
        }
        (input ? r.inputs : r.outputs).put(index, 1.0);
        return r;
    }

    private Linear groupTerm(Group g) {
        String op = operator(g, "a term");
        List<Linear> args = new ArrayList<>();
        switch (op) {
            case "+", "-", "*" -> {
                expectArity(g, 1, Integer.MAX_VALUE, "(" + op + " TERM ...)");
                for (Expr item : g.items().subList(1, g.items().size())) {
                    args.add(term(item));
                }
            }
            default ->
                    throw error(
                            g.items().get(0),
                            "unsupported operator '" + op + "' in a term: expected +, - or *");
        }
        Linear r = args.get(0);
        switch (op) {
            case "+" -> {
                for (Linear a : args.subList(1, args.size())) {
                    r = r.plus(a, 1);
                }
            }
            case "-" -> {
                if (args.size() == 1) {
                    r = r.times(-1);
                }
                for (Linear a : args.subList(1, args.size())) {
                    r = r.plus(a, -1);
                }
            }
            default -> {
                for (int k = 1; k < args.size(); k++) {
                    Linear a = args.get(k);
                    if (a.isConstant()) {
                        r = r.times(a.constant);
                    } else if (r.isConstant()) {
                        r = a.times(r.constant);
                    } else {
                        throw error(
                                g.items().get(k + 1),
                                "unsupported: product of two non-constant terms (not linear)");
                    }
                }
            }
        }
        return r;
    }

    private String operator(Group g, String what) {
        if (g.items().isEmpty()) {
            throw error(g, "empty '()': expected " + what);
        }
        if (!(g.items().get(0) instanceof Atom head)) {
            throw error(g.items().get(0), "expected an operator at the start of " + what);
        }
        return head.text();
    }

    private void expectArity(Group g, int min, int max, String shape) {
        int n = g.items().size() - 1;
        if (n < min || n > max) {
            throw error(g, "wrong number of operands (" + n + "): expected " + shape);
        }
    }

    // ---------------------------------------------------------------- regions

    private Property buildRegions(List<Formula> asserted, int[] end) {
        // Top-level conjunctions flatten into literals shared by every disjunct; only formulas
        // with an 'or' multiply out, which keeps 1,568 bound asserts linear.
        List<Literal> common = new ArrayList<>();
        List<List<List<Literal>>> factors = new ArrayList<>();
        Deque<Formula> todo = new ArrayDeque<>(asserted);
        while (!todo.isEmpty()) {
            Formula f = todo.pollFirst();
            if (f instanceof Leaf leaf) {
                common.add(leaf.literal());
            } else if (f instanceof And and) {
                for (int k = and.parts().size() - 1; k >= 0; k--) {
                    todo.addFirst(and.parts().get(k));
                }
            } else {
                factors.add(dnf(f));
            }
        }
        List<List<Literal>> terms = List.of(List.of());
        for (List<List<Literal>> factor : factors) {
            terms = product(terms, factor, null);
        }

        int n = inputs.size();
        Map<BoxKey, List<List<LinearConstraint>>> regions = new LinkedHashMap<>();
        Literal conflict = null;
        for (int t = 0; t < terms.size(); t++) {
            double[] lower = new double[n];
            double[] upper = new double[n];
            Arrays.fill(lower, Double.NEGATIVE_INFINITY);
            Arrays.fill(upper, Double.POSITIVE_INFINITY);
            List<LinearConstraint> constraints = new ArrayList<>();
            Literal emptyAt = null;
            for (List<Literal> part : List.of(common, terms.get(t))) {
                for (Literal lit : part) {
                    if (lit instanceof InputBound b) {
                        if (b.upper()) {
                            upper[b.index()] = Math.min(upper[b.index()], b.value());
                        } else {
                            lower[b.index()] = Math.max(lower[b.index()], b.value());
                        }
                        if (emptyAt == null && lower[b.index()] > upper[b.index()]) {
                            emptyAt = lit;
                        }
                    } else {
                        constraints.add(toConstraint((OutputConstraint) lit));
                    }
                }
            }
            if (emptyAt != null) {
                // No input satisfies this disjunct: it adds no counterexample.
                conflict = conflict == null ? emptyAt : conflict;
                continue;
            }
            String inDisjunct = terms.size() > 1 ? " in disjunct " + (t + 1) + " of the DNF" : "";
            for (int i = 0; i < n; i++) {
                if (!Double.isFinite(lower[i]) || !Double.isFinite(upper[i])) {
                    throw error(
                            inputs.get(i),
                            "X_"
                                    + i
                                    + " has no finite "
                                    + (Double.isFinite(lower[i]) ? "upper" : "lower")
                                    + " bound"
                                    + inDisjunct
                                    + ": expected (assert (<= X_"
                                    + i
                                    + " c)) and (assert (>= X_"
                                    + i
                                    + " c))");
                }
            }
            if (constraints.isEmpty()) {
                throw error(
                        end[0],
                        end[1],
                        "no output constraint"
                                + inDisjunct
                                + ": expected an assert over Y (the violation)");
            }
            regions.computeIfAbsent(new BoxKey(lower, upper), k -> new ArrayList<>())
                    .add(constraints);
        }
        if (regions.isEmpty()) {
            throw error(
                    conflict.where(),
                    "the input bounds contradict each other (lower > upper) in every disjunct");
        }
        List<Property.Region> result = new ArrayList<>();
        for (Map.Entry<BoxKey, List<List<LinearConstraint>>> e : regions.entrySet()) {
            result.add(
                    new Property.Region(
                            new Box(e.getKey().lower(), e.getKey().upper()),
                            new OutputSpec(outputs.size(), e.getValue())));
        }
        return new Property(result);
    }

    private LinearConstraint toConstraint(OutputConstraint c) {
        double[] coefficients = new double[outputs.size()];
        // + 0.0 turns -0.0 into 0.0, so equal constraints are equal arrays.
        c.coefficients().forEach((k, v) -> coefficients[k] = v + 0.0);
        return new LinearConstraint(coefficients, c.bound() + 0.0);
    }

    private List<List<Literal>> dnf(Formula f) {
        if (f instanceof Leaf leaf) {
            return List.of(List.of(leaf.literal()));
        }
        if (f instanceof Or or) {
            List<List<Literal>> terms = new ArrayList<>();
            for (Formula part : or.parts()) {
                terms.addAll(dnf(part));
                if (terms.size() > MAX_DISJUNCTS) {
                    throw error(or.where(), "more than " + MAX_DISJUNCTS + " disjuncts");
                }
            }
            return terms;
        }
        And and = (And) f;
        List<List<Literal>> terms = List.of(List.of());
        for (Formula part : and.parts()) {
            terms = product(terms, dnf(part), and.where());
        }
        return terms;
    }

    private List<List<Literal>> product(
            List<List<Literal>> left, List<List<Literal>> right, Expr where) {
        if ((long) left.size() * right.size() > MAX_DISJUNCTS) {
            Expr at = where != null ? where : right.get(0).get(0).where();
            throw error(
                    at,
                    "the disjunctive normal form would have more than "
                            + MAX_DISJUNCTS
                            + " disjuncts");
        }
        List<List<Literal>> result = new ArrayList<>();
        for (List<Literal> a : left) {
            for (List<Literal> b : right) {
                List<Literal> both = new ArrayList<>(a);
                both.addAll(b);
                result.add(both);
            }
        }
        return result;
    }

    /** A box as a map key (arrays compare by identity otherwise). */
    private record BoxKey(double[] lower, double[] upper) {
        @Override
        public boolean equals(Object o) {
            return o instanceof BoxKey k
                    && Arrays.equals(lower, k.lower)
                    && Arrays.equals(upper, k.upper);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(lower) + Arrays.hashCode(upper);
        }

        @Override
        public String toString() {
            return "BoxKey[" + lower.length + "]";
        }
    }

    // ---------------------------------------------------------------- errors

    private static int[] endPosition(String text) {
        int line = 1;
        int column = 1;
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new int[] {line, column};
    }

    private VnnlibException error(Expr at, String message) {
        return error(at.line(), at.column(), message);
    }

    private VnnlibException error(int line, int column, String message) {
        return new VnnlibException(source, line, column, message);
    }
}
