package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code Δπ_E(Q) = π_E(ΔQ)}: each expression is evaluated on the changed rows, the weight passes
 * through. Expressions are the user's PostgreSQL text; they must be deterministic (volatile
 * functions are rejected for DIFFERENTIAL) or old and new images would not cancel.
 *
 * @param alias the name the expressions use for their input (the FROM alias or subquery name)
 */
public record Project(LinearOperator input, String alias, List<Item> items) implements LinearOperator {
    /** One output column: PostgreSQL expression text and its name. */
    public record Item(String expression, String name) {
    }

    public Project {
        items = List.copyOf(items);
    }

    @Override
    public String sql(RowSource rows) {
        String select = items.stream().map(i -> i.expression() + " AS " + Sql.quoteIdent(i.name()) + ", ")
                .collect(Collectors.joining());
        return "SELECT " + select + Sql.quoteIdent(alias) + ".__pgt_w FROM (" + input.sql(rows) + ") AS "
                + Sql.quoteIdent(alias);
    }

    @Override
    public List<String> columns() {
        return items.stream().map(Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(input);
    }

    @Override
    public String describe() {
        return "Project " + items.stream().map(i -> i.expression().replaceAll("\\s+", " ")
                + (i.expression().endsWith("." + i.name()) || i.expression().equals(i.name()) ? "" : " AS " + i.name()))
                .collect(Collectors.joining(", "));
    }
}
