package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.List;

/**
 * {@code Δσ_p(Q) = σ_p(ΔQ)}. An UPDATE arrives as a deletion of the old image and an insertion of
 * the new one, so a row crossing the predicate in either direction is handled by the same rule.
 *
 * @param alias     the name the predicate uses for its input (the FROM alias)
 * @param predicate PostgreSQL text, unchanged from the normalised query
 */
public record Filter(LinearOperator input, String alias, String predicate) implements LinearOperator {
    @Override
    public String sql(RowSource rows) {
        return "SELECT * FROM (" + input.sql(rows) + ") AS " + Sql.quoteIdent(alias) + " WHERE " + predicate;
    }

    @Override
    public List<String> columns() {
        return input.columns();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(input);
    }

    @Override
    public String describe() {
        return "Filter " + predicate.replaceAll("\\s+", " ");
    }
}
