package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code Δπ_E(σ_p(F))}: one SELECT (list, FROM, WHERE) evaluated on the delta of its FROM clause
 * ({@link FromClause}), the weight passing through. Expressions are the user's PostgreSQL text; they
 * must be deterministic (volatile functions are rejected for DIFFERENTIAL) or old and new images
 * would not cancel.
 *
 * @param where the WHERE condition (null when there is none)
 * @param list  the select list ({@code expression AS name, ...}), subqueries as slots
 * @param items the select list as written, for explain and the column names
 * @param uniqueKey the output columns that hold the whole primary key of one table as it is, every
 *                  other table being joined by equalities on its whole primary key: no two rows share
 *                  their values, before or after any change (docs/DIFFERENTIAL.md, "Rows unique by a
 *                  key"); empty when rows can repeat
 */
public record Project(FromClause from, Template where, Template list, List<Item> items, List<String> uniqueKey)
        implements LinearOperator {
    /** One output column: PostgreSQL expression text and its name. */
    public record Item(String expression, String name) {
    }

    public Project {
        items = List.copyOf(items);
        uniqueKey = List.copyOf(uniqueKey);
    }

    /** Whether no two rows can be equal ({@link #uniqueKey}). */
    public boolean uniqueRows() {
        return !uniqueKey.isEmpty();
    }

    /** Whether its delta holds each row at most once removed and once added ({@link FromClause#deltaByRow}). */
    public boolean deltaByRow() {
        return from.deltaByRow(list, where);
    }

    @Override
    public String sql(RowSource rows) {
        return from.select(list, where, rows);
    }

    @Override
    public List<String> columns() {
        return items.stream().map(Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(where == null ? from.operator() : new Filter(from.operator(), where.written(), !where.sublinks().isEmpty()));
    }

    @Override
    public String describe() {
        return "Project " + items.stream().map(i -> i.expression().replaceAll("\\s+", " ")
                + (i.expression().endsWith("." + i.name()) || i.expression().equals(i.name()) ? "" : " AS " + i.name()))
                .collect(Collectors.joining(", "));
    }
}
