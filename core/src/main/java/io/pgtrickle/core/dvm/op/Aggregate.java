package io.pgtrickle.core.dvm.op;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code γ_{G; aggs}(Q)} with optional HAVING: the top of the query, or a grouped subquery in FROM
 * (a {@code SELECT DISTINCT} subquery is one too, grouped by its whole select list).
 *
 * <h2>The delta</h2>
 * A group's output row depends only on the group's input rows (and on the tables read by
 * subqueries in the select list or HAVING). So the groups a change can affect are the groups of
 * the changed input rows, old and new images alike, and — when a table read by such a subquery
 * changed — every group. For those groups, and only for them:
 *
 * <pre>
 *   Δγ(Q) = γ(Q¹)|affected − γ(Q⁰)|affected
 * </pre>
 *
 * with Q¹ the current input (the FROM clause as written) and Q⁰ the input at the previous refresh
 * (the FROM clause over the sources' previous state, each joined row repeated by its
 * multiplicity). Every value comes from PostgreSQL's own aggregate over the group, so the rule is
 * exact for every aggregate; its cost is proportional to the affected groups, not to the table.
 * At the top of the query only the first half is needed ({@code γ(Q¹)|affected} replaces the
 * stored rows of the affected groups); algebraic aggregates at the top are maintained from hidden
 * columns instead (see {@code AlgebraicAggregateSql}).
 *
 * @param from     the FROM clause, for the delta and the previous state
 * @param fromSql  the FROM clause as written (its current state)
 * @param where    the WHERE condition (subqueries as slots), or null
 * @param keys     GROUP BY expressions as written; empty for a scalar aggregate
 * @param calls    aggregate calls as written, referred to as {@code __pgt_f.__pgt_a<i>}
 * @param outputs  the select list with aggregates and keys replaced by {@code __pgt_f.__pgt_a<i>} and
 *                 {@code __pgt_f.__pgt_g<j>}; null when the select list or HAVING has subqueries
 * @param having   HAVING with the same replacements, or null
 * @param written  the select list and HAVING as written
 */
public record Aggregate(FromClause from, String fromSql, Template where, List<String> keys,
                        List<String> calls, List<Project.Item> outputs, String having, Written written)
        implements ItemOperator {
    /**
     * The select list and HAVING as the user's query has them.
     *
     * @param items  each output expression and its name
     * @param list   {@code expression AS "name", ...}, subqueries as slots
     * @param having HAVING, subqueries as slots, or null
     */
    public record Written(List<Project.Item> items, Template list, Template having) {
        public Written {
            items = List.copyOf(items);
        }

        public String havingSql() {
            return having == null ? null : having.written();
        }

        /** Whether the select list or HAVING reads tables through subqueries. */
        public boolean subqueries() {
            return !list.sublinks().isEmpty() || having != null && !having.sublinks().isEmpty();
        }
    }

    public Aggregate {
        keys = List.copyOf(keys);
        calls = List.copyOf(calls);
        outputs = outputs == null ? null : List.copyOf(outputs);
    }

    /**
     * A constant of the select list of a SELECT DISTINCT as a group key: a bare number in GROUP BY
     * would be a position, so it is grouped as an expression (it splits no group).
     */
    public static String constantKey(String literal) {
        return "(" + literal + ")::numeric";
    }

    public static boolean isConstantKey(String key) {
        return key.matches("\\(-?\\d+(\\.\\d+)?\\)::numeric");
    }

    /** The WHERE condition as written, or null. */
    public String whereSql() {
        return where == null ? null : where.written();
    }

    public boolean scalar() {
        return keys.isEmpty();
    }

    /** The names of the group keys in the engine's queries: {@code __pgt_g0, __pgt_g1, ...}. */
    public List<String> groupNames() {
        return IntStream.range(0, keys.size()).mapToObj(i -> "__pgt_g" + i).toList();
    }

    /** {@code (k0) AS __pgt_g0, ...}. */
    public String keysAliased() {
        List<String> g = groupNames();
        return IntStream.range(0, keys.size()).mapToObj(i -> "(" + keys.get(i) + ") AS " + g.get(i))
                .collect(Collectors.joining(", "));
    }

    /**
     * The groups a change can affect, columns {@code __pgt_g0…} (for a scalar aggregate: one row
     * {@code __pgt_any} when anything changed, none otherwise): the keys of the changed input rows,
     * and every current key when a table read by a subquery of the select list or HAVING changed.
     */
    public String affected(RowSource.Changes changes) {
        String subqueriesChanged = subqueriesChanged(changes);
        if (scalar()) {
            String delta = from.select(Template.plain(""), where, changes);
            return "SELECT true AS __pgt_any WHERE EXISTS (SELECT 1 FROM (" + delta + ") __pgt_q)"
                    + (subqueriesChanged == null ? "" : " OR " + subqueriesChanged);
        }
        String keysOfChanges = "SELECT DISTINCT " + groupNames().stream().map(g -> "__pgt_q." + g).collect(Collectors.joining(", "))
                + " FROM (" + from.select(Template.plain(keysAliased()), where, changes) + ") __pgt_q";
        if (subqueriesChanged == null) {
            return keysOfChanges;
        }
        return keysOfChanges + " UNION SELECT DISTINCT " + keysAliased() + " FROM " + fromSql + " WHERE "
                + (where == null ? "" : "(" + whereSql() + ") AND ") + subqueriesChanged;
    }

    /** Whether a table read by a subquery of the select list or HAVING changed; null when there is none. */
    private String subqueriesChanged(RowSource.Changes changes) {
        List<Sublink> sublinks = new ArrayList<>(written.list().sublinks());
        if (written.having() != null) {
            sublinks.addAll(written.having().sublinks());
        }
        if (sublinks.isEmpty()) {
            return null;
        }
        return sublinks.stream().flatMap(s -> s.tables().stream())
                .map(t -> "EXISTS (SELECT 1 FROM (" + t.scan().sql(changes) + ") __pgt_s)")
                .distinct().collect(Collectors.joining(" OR ", "(", ")"));
    }

    @Override
    public String sql(RowSource rows) {
        if (rows instanceof RowSource.Changes changes) {
            return "SELECT * FROM " + changes.shared(this, changes.uniqueName("__pgt_grp_"), () -> delta(changes));
        }
        if (rows instanceof RowSource.Old old) {
            return previous(old, "1", null);
        }
        return current("1", null);
    }

    /** The groups as they are now, each row with weight {@code weight}, only the affected ones if given. */
    private String current(String weight, String affected) {
        String list = written.list().written() + ", " + weight + " AS __pgt_w";
        return grouped(list, fromSql, whereSql(), written.havingSql(), affected);
    }

    /** The groups as they were at the previous refresh. */
    private String previous(RowSource.Old old, String weight, String affected) {
        String list = written.list().render(s -> true, old) + ", " + weight + " AS __pgt_w";
        return grouped(list, from.previous(old), where == null ? null : where.render(s -> true, old),
                written.having() == null ? null : written.having().render(s -> true, old), affected);
    }

    private String grouped(String list, String fromText, String whereText, String havingText, String affected) {
        if (scalar()) {
            String q = "SELECT " + list + " FROM " + fromText + (whereText == null ? "" : " WHERE " + whereText)
                    + (havingText == null ? "" : " HAVING " + havingText);
            return affected == null ? q : "SELECT * FROM (" + q + ") __pgt_s WHERE EXISTS (SELECT 1 FROM " + affected + ")";
        }
        if (affected == null) {
            return "SELECT " + list + " FROM " + fromText + (whereText == null ? "" : " WHERE " + whereText)
                    + " GROUP BY " + String.join(", ", keys) + (havingText == null ? "" : " HAVING " + havingText);
        }
        return AffectedGroups.select(list, fromText, whereText, keys, groupNames(), affected, null, havingText);
    }

    private String delta(RowSource.Changes changes) {
        String keysCte = changes.uniqueName("__pgt_keys_");
        return "WITH " + keysCte + " AS MATERIALIZED (" + affected(changes) + ") (" + current("1", keysCte) + ") UNION ALL ("
                + previous(new RowSource.Old(changes), "-1", keysCte) + ")";
    }

    @Override
    public List<String> columns() {
        return written.items().stream().map(Project.Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(where == null ? from.operator() : new Filter(from.operator(), whereSql(), !where.sublinks().isEmpty()));
    }

    @Override
    public String describe() {
        String groups = scalar() ? "no GROUP BY (one row)" : "GROUP BY " + String.join(", ", keys);
        return "Aggregate " + groups + (calls.isEmpty() ? "" : "; " + calls.stream().map(c -> c.replaceAll("\\s+", " "))
                .collect(Collectors.joining(", "))) + (written.having() == null ? "" : "; HAVING")
                + (written.subqueries() ? "; subqueries in the select list or HAVING" : "");
    }

    @Override
    public String strategy() {
        return "group recompute (affected groups only)";
    }
}
