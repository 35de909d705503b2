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
 * @param probe       an EXISTS over one table whose WHERE equates a column that leads an index of the
 *                    table with a value of the outer row: evaluated for a few outer rows, it is best
 *                    an index probe per row; its template marks the end of the subquery, where
 *                    {@link Template#render} can make it one
 */
public record Sublink(List<Table> tables, String restriction, boolean probe) {
    /** A table reference in the subquery text (slot {@code slot} of its template): replaced by the table's old state when needed. */
    public record Table(int slot, Scan scan, String alias) {
    }

    public Sublink {
        tables = List.copyOf(tables);
    }
}
