package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code Δπ_E(σ_p(F)) = π_E(σ_p(ΔF))}: one SELECT (list, FROM, WHERE) evaluated on the changed
 * rows, the weight passing through. Expressions are the user's PostgreSQL text; they must be
 * deterministic (volatile functions are rejected for DIFFERENTIAL) or old and new images would not
 * cancel.
 *
 * @param where the WHERE condition as written, or null
 */
public record Project(FromClause from, String where, List<Item> items) implements LinearOperator {
    /** One output column: PostgreSQL expression text and its name. */
    public record Item(String expression, String name) {
    }

    public Project {
        items = List.copyOf(items);
    }

    @Override
    public String sql(RowSource rows) {
        String list = items.stream().map(i -> i.expression() + " AS " + Sql.quoteIdent(i.name()))
                .collect(Collectors.joining(", "));
        return from.select(list, where, rows);
    }

    @Override
    public List<String> columns() {
        return items.stream().map(Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(where == null ? from.operator() : new Filter(from.operator(), where));
    }

    @Override
    public String describe() {
        return "Project " + items.stream().map(i -> i.expression().replaceAll("\\s+", " ")
                + (i.expression().endsWith("." + i.name()) || i.expression().equals(i.name()) ? "" : " AS " + i.name()))
                .collect(Collectors.joining(", "));
    }
}
