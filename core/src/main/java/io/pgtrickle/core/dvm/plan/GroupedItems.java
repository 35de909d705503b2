package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.Aggregate;
import io.pgtrickle.core.dvm.op.Operator;
import io.pgtrickle.core.dvm.op.RecomputedSubquery;
import io.pgtrickle.core.sql.TextForms;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Whether the grouped subqueries below the top of a query can be maintained. Their delta subtracts
 * the groups as they were, rebuilt from the sources' previous state; that cancels the rows emitted
 * earlier only if rebuilding gives them again text for text. It does not when a group's value
 * depends on the order PostgreSQL happens to read rows in: a GROUP BY or DISTINCT column, or a
 * MIN/MAX argument, whose equal values can print differently (numeric 1.0 and 1.00, interval
 * '1 day' and '24 hours', float -0 and 0), or an aggregate whose result depends on input order
 * (string_agg, array_agg, a floating-point sum …). Such queries are maintained by FULL, with the
 * reason. (At the top of the query the stored group is replaced by key, so none of this matters.)
 */
final class GroupedItems {
    private static final Set<String> EXACT_SUM = Set.of("smallint", "integer", "bigint", "numeric");
    /** Aggregates whose result depends only on the multiset of their inputs, whatever their type. */
    private static final Set<String> ORDER_FREE = Set.of("count", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor");

    /** Types of expressions over a FROM clause. */
    @FunctionalInterface
    interface Types {
        List<QueryCompiler.TypeInfo> of(String fromSql, List<String> expressions) throws SQLException;
    }

    private GroupedItems() {
    }

    /** Why a grouped subquery of the tree cannot be rebuilt exactly; null when every one can. */
    static String unrebuildable(Operator root, Types types) throws SQLException {
        List<Aggregate> items = new ArrayList<>();
        collect(root, root, items);
        for (Aggregate a : items) {
            String why = unrebuildable(a, types);
            if (why != null) {
                return "a grouped subquery whose result depends on the order rows are read in (" + why + ")";
            }
        }
        return null;
    }

    /**
     * Why a subquery recomputed before and after (see {@link RecomputedSubquery}) may not give back
     * the rows it gave at the previous refresh; null when each one will. One that merges equal values
     * keeps whichever it reads first, so each column must print equal values alike (float and
     * numeric sums also depend on the order they add up in).
     */
    static String unrepeatable(Operator op, Types types) throws SQLException {
        if (op instanceof RecomputedSubquery r && r.merges()) {
            List<QueryCompiler.TypeInfo> t = types.of(r.typeScope(), r.columns().stream().map(c -> "__pgt_s." + io.pgtrickle.core.sql.Sql.quoteIdent(c)).toList());
            for (int i = 0; i < t.size(); i++) {
                if (!oneText(t.get(i))) {
                    return "a subquery " + r.kind() + " whose column " + r.columns().get(i) + " of type " + typeText(t.get(i))
                            + " may print equal values differently, depending on the order rows are read in";
                }
            }
        }
        for (Operator input : op.inputs()) {
            String why = unrepeatable(input, types);
            if (why != null) {
                return why;
            }
        }
        return null;
    }

    /** Whether the tree has a subquery recomputed before and after ({@link RecomputedSubquery}). */
    static boolean recomputes(Operator op) {
        return op instanceof RecomputedSubquery || op.inputs().stream().anyMatch(GroupedItems::recomputes);
    }

    private static void collect(Operator op, Operator root, List<Aggregate> out) {
        if (op instanceof Aggregate a && op != root) {
            out.add(a);
        }
        op.inputs().forEach(i -> collect(i, root, out));
    }

    private static String unrebuildable(Aggregate a, Types types) throws SQLException {
        List<String> probe = new ArrayList<>(a.keys());
        List<AggregateCall> calls = a.calls().stream().map(AggregateCall::classify).toList();
        for (AggregateCall c : calls) {
            String name = name(c.text());
            boolean typed = c.kind() == AggregateCall.Kind.SUM || c.kind() == AggregateCall.Kind.AVG
                    || c.kind() == AggregateCall.Kind.MIN || c.kind() == AggregateCall.Kind.MAX;
            if (!typed && !ORDER_FREE.contains(name)) {
                return "aggregate " + name + "()";
            }
            probe.add(typed ? c.argument() : "NULL::int");
        }
        if (probe.isEmpty()) {
            return null;
        }
        List<QueryCompiler.TypeInfo> t = types.of(a.fromSql(), probe);
        for (int i = 0; i < a.keys().size(); i++) {
            if (!oneText(t.get(i)) && !Aggregate.isConstantKey(a.keys().get(i))) {
                return "GROUP BY or DISTINCT column " + a.keys().get(i) + " of type " + typeText(t.get(i));
            }
        }
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            QueryCompiler.TypeInfo argument = t.get(a.keys().size() + i);
            String type = argument.type();
            switch (c.kind()) {
                case SUM, AVG -> {
                    if (!EXACT_SUM.contains(type.replaceFirst("\\(.*", ""))) {
                        return c.kind().name().toLowerCase(Locale.ROOT) + "() over " + type;
                    }
                }
                case MIN, MAX -> {
                    // a constant's every value prints alike, whichever row gives it
                    if (!oneText(argument) && !isLiteral(c.argument())) {
                        return c.kind().name().toLowerCase(Locale.ROOT) + "() over " + typeText(argument);
                    }
                }
                default -> {
                }
            }
        }
        return null;
    }

    private static boolean isLiteral(String argument) {
        return argument.strip().matches("\\(*-?\\d+(\\.\\d+)?\\)*(::numeric)?") || Aggregate.isConstantKey(argument.strip());
    }

    /** Whether equal values of an expression always print alike: its type's, in a deterministic collation. */
    private static boolean oneText(QueryCompiler.TypeInfo t) {
        return TextForms.oneText(t.type()) && t.deterministic();
    }

    private static String typeText(QueryCompiler.TypeInfo t) {
        return t.type() + (t.deterministic() ? "" : " in a nondeterministic collation");
    }

    private static String name(String call) {
        int open = call.indexOf('(');
        return (open < 0 ? call : call.substring(0, open)).strip().toLowerCase(Locale.ROOT).replace("pg_catalog.", "");
    }
}
