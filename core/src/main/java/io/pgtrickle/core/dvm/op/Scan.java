package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.Map;

/**
 * A source table. {@code ΔScan(T)} = the captured changes of T in the window: each buffer row is
 * the row image with weight +1 (I) or -1 (D). Exact for keyed and keyless tables alike, duplicates
 * included, because every committed change in the window is in the buffer (frontier invariant).
 *
 * @param columns   the columns of T the query uses (all captured)
 * @param indexable the columns among them that are NOT NULL and have an equality operator: looking
 *                  up a row by them can use an index
 * @param key       the table's primary key, all among {@code columns}; empty when it has none
 * @param valueEqual whether every column's type has an equality under which equal values have the
 *                  same text (integers, text of a deterministic collation, dates …; not numeric,
 *                  floats or json): the changes are then netted by grouping on the values instead
 *                  of sorting their text
 * @param types     the type of each used column (a domain's base type), as format_type prints it;
 *                  empty when not known
 * @param changeFilter a condition the query applies to every row of T and that cannot raise an
 *                  error, by which T's changes are filtered before they are netted; null for none
 */
public record Scan(long relid, String table, List<String> columns, List<String> indexable, List<String> key,
                   boolean valueEqual, Map<String, String> types, ChangeFilter changeFilter) implements LinearOperator {
    /**
     * A condition on T's columns as the query writes it, under the alias it writes them with.
     * Rows it rejects, in either image of a change, are in no result of the query.
     */
    public record ChangeFilter(String alias, String condition) {
    }

    public Scan {
        columns = List.copyOf(columns);
        indexable = List.copyOf(indexable);
        key = List.copyOf(key);
        types = Map.copyOf(types);
    }

    public Scan(long relid, String table, List<String> columns, List<String> indexable, List<String> key, boolean valueEqual) {
        this(relid, table, columns, indexable, key, valueEqual, Map.of(), null);
    }

    public Scan(long relid, String table, List<String> columns, List<String> indexable) {
        this(relid, table, columns, indexable, List.of(), false);
    }

    /** This scan, its changes filtered by {@code filter}. */
    public Scan filtered(ChangeFilter filter) {
        return new Scan(relid, table, columns, indexable, key, valueEqual, types, filter);
    }

    @Override
    public String sql(RowSource rows) {
        return rows.scan(this);
    }

    @Override
    public List<Operator> inputs() {
        return List.of();
    }

    @Override
    public String describe() {
        return "Scan " + table + " (" + String.join(", ", columns) + ")";
    }

    @Override
    public String strategy() {
        return changeFilter == null ? LinearOperator.super.strategy()
                : LinearOperator.super.strategy() + "; changes filtered by " + changeFilter.condition().replaceAll("\\s+", " ")
                + " before they are netted";
    }
}
