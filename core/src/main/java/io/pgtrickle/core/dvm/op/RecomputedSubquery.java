package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A subquery in FROM (or a branch of UNION ALL) whose rows are not a sum over its input rows:
 * window functions, DISTINCT ON, INTERSECT/EXCEPT/UNION, ORDER BY ... LIMIT, grouping sets. Its
 * text is evaluated by PostgreSQL as written, over the tables' current state or over their state
 * at the previous refresh (each table a slot of {@link #body}).
 *
 * <h2>The delta</h2>
 * <pre>
 *   ΔS = S¹|R − S⁰|R
 * </pre>
 * where R selects whole partitions: for a window query (one partitioning, or the PARTITION BY
 * expressions all its windows share) and for DISTINCT ON, R holds for the output rows whose
 * partition-key columns take a value some changed input row has, old or new image. A partition no
 * changed row belongs to has the same rows in both states, so leaving it out changes nothing but
 * the cost; R only has to contain the affected partitions, so a key column by itself (without the
 * others) restricts exactly too. R is written as {@code column = ANY (ARRAY(...))} over the output
 * columns: an uncorrelated condition that PostgreSQL pushes into the subquery (a qual on a column
 * of every PARTITION BY, or of DISTINCT ON, is safe to push) and down to an index on the key, so
 * only the affected partitions are read and ranked. Where no key column is in the output, and for
 * the other kinds, R is "a table of the subquery changed": the subquery is evaluated whole in both
 * states, and only when it may have changed. Rows equal in both halves cancel at the apply.
 *
 * @param body        the subquery as written, its tables as slots (one {@link Sublink})
 * @param columns     its output column names
 * @param partitioned the subquery as an operator over its input, for the changed input rows'
 *                    keys; null when R is "a table changed"
 * @param keyColumns  the output columns that are partition keys, in the order of {@code keys}
 * @param keys        their expressions over the subquery's input, as written
 * @param kind        what makes the subquery non-linear, for explain
 * @param merges      whether it merges equal rows or values (a set operation's deduplication,
 *                    grouping): then which of equal values it keeps, and so its text, may depend on
 *                    the order rows are read in unless each column's type prints equal values alike
 */
public record RecomputedSubquery(Template body, List<String> columns, PartitionRecompute partitioned,
                                 List<String> keyColumns, List<String> keys, String kind, boolean merges) implements ItemOperator {
    public RecomputedSubquery {
        columns = List.copyOf(columns);
        keyColumns = List.copyOf(keyColumns);
        keys = List.copyOf(keys);
        if (keyColumns.size() != keys.size() || (partitioned == null) != keys.isEmpty()) {
            throw new IllegalArgumentException("one key expression per key column, and an operator to find their changes");
        }
    }

    /** A subquery recomputed whole when one of its tables changed. */
    public static RecomputedSubquery whole(Template body, List<String> columns, String kind, boolean merges) {
        return new RecomputedSubquery(body, columns, null, List.of(), List.of(), kind, merges);
    }

    /** The subquery as a FROM item, to learn its columns' types. */
    public String typeScope() {
        return "(" + body.written() + ") AS __pgt_s(" + columns.stream().map(Sql::quoteIdent).collect(Collectors.joining(", ")) + ")";
    }

    @Override
    public String sql(RowSource rows) {
        if (rows instanceof RowSource.Changes changes) {
            return "SELECT * FROM " + changes.shared(this, changes.uniqueName("__pgt_sub"), () -> delta(changes));
        }
        String text = rows instanceof RowSource.Old old ? body.render(s -> true, old) : body.written();
        return ItemOperator.unitWeight("(" + text + ")", columns);
    }

    private String delta(RowSource.Changes changes) {
        String r = restriction(changes);
        String alias = " AS __pgt_s(" + columns.stream().map(Sql::quoteIdent).collect(Collectors.joining(", ")) + ")";
        return "SELECT __pgt_s.*, 1 AS __pgt_w FROM (" + body.written() + ")" + alias + " WHERE " + r
                + " UNION ALL SELECT __pgt_s.*, -1 FROM (" + body.render(s -> true, new RowSource.Old(changes)) + ")" + alias
                + " WHERE " + r;
    }

    /** R, over the output row {@code __pgt_s}. */
    private String restriction(RowSource.Changes changes) {
        List<Sublink.Table> tables = body.slots();
        if (tables.isEmpty()) {
            return "false"; // reads no table: never changes
        }
        if (partitioned == null) {
            return tables.stream().map(t -> t.scan().relid()).distinct().map(changes::anyChange)
                    .collect(Collectors.joining(" OR ", "(", ")"));
        }
        List<String> k = IntStream.range(0, keys.size()).mapToObj(i -> "__pgt_k" + i).toList();
        String select = IntStream.range(0, keys.size()).mapToObj(i -> "(" + keys.get(i) + ") AS " + k.get(i))
                .collect(Collectors.joining(", "));
        String affected = changes.shared(List.of(this, "keys"), changes.uniqueName("__pgt_subk"),
                () -> partitioned.changedRows(select, changes));
        List<String> conditions = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            String column = "__pgt_s." + Sql.quoteIdent(keyColumns.get(i));
            // ARRAY(...) is evaluated once (an InitPlan), so the condition can be pushed into the subquery
            conditions.add("(" + column + " = ANY (ARRAY(SELECT " + k.get(i) + " FROM " + affected + " WHERE " + k.get(i)
                    + " IS NOT NULL)) OR " + column + " IS NULL AND EXISTS (SELECT 1 FROM " + affected + " WHERE " + k.get(i)
                    + " IS NULL))");
        }
        return String.join(" AND ", conditions);
    }

    @Override
    public List<Operator> inputs() {
        return partitioned == null ? List.of() : List.of(partitioned);
    }

    @Override
    public String describe() {
        return "RecomputedSubquery " + kind + " (" + String.join(", ", columns) + ")"
                + (keyColumns.isEmpty() ? "" : " by " + String.join(", ", keyColumns));
    }

    @Override
    public String strategy() {
        return keyColumns.isEmpty()
                ? "recomputed whole, before and after, when one of its tables changed"
                : "recomputed for the partitions of the changed rows (" + String.join(", ", keyColumns) + "), before and after";
    }
}
