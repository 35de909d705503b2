package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * A subquery inside an expression (EXISTS, IN, ANY/ALL, a scalar subquery), with the tables it
 * reads. Its value for a row depends on the current state of those tables, so a row must be
 * re-evaluated when they change: it is a non-linear input of the SELECT it belongs to.
 *
 * @param tables      the tables the subquery reads, each where it appears in the text
 * @param restriction for a subquery over a single table: its WHERE condition (or "true"), which
 *                    tells which changed rows of the table can matter to an outer row; null when
 *                    any change can matter to every row
 * @param probe       for an EXISTS over one table that is a conjunct of WHERE (or NOT of one) and whose
 *                    WHERE equates a column leading an index of the table with a value of the outer
 *                    row: that column and value, by which {@link Template#probed} probes the previous
 *                    state per row; null otherwise
 * @param perRow      for an {@code x IN (subquery)} conjunct of WHERE whose subquery groups (GROUP BY or
 *                    DISTINCT) one table by the column it returns: PostgreSQL joins such an IN as a
 *                    semi join with the whole grouped result, so a refresh evaluates it as an EXISTS
 *                    per row in every state ({@link Template#render(java.util.function.Predicate,
 *                    RowSource.Old, String)}), with x pushed down to the grouped table
 */
public record Sublink(List<Table> tables, String restriction, Probe probe, boolean perRow) {
    /**
     * A table reference in the subquery text (slot {@code slot} of its template): replaced by the
     * table's old state when needed.
     *
     * @param correlation when the table is the only FROM item of a scalar subquery's SELECT: the conjuncts of that
     *                    SELECT's WHERE that equate one of its columns with a column of an outer row,
     *                    by which the old state reads the changed rows only for the outer rows whose
     *                    values are among theirs ({@link RowSource.Old#rows}); empty otherwise
     */
    public record Table(int slot, Scan scan, String alias, List<Probe> correlation) {
        public Table {
            correlation = List.copyOf(correlation);
        }

        /** The same table at another slot. */
        Table at(int other) {
            return new Table(other, scan, alias, correlation);
        }
    }

    /** {@code <table alias>.column = value}: the column's name, the value's text (over the outer row). */
    public record Probe(String column, String value) {
    }

    public Sublink {
        tables = List.copyOf(tables);
    }
}
