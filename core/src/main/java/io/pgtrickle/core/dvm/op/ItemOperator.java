package io.pgtrickle.core.dvm.op;

/**
 * An operator that can stand as a FROM item: its rows can be rendered over any {@link RowSource} —
 * its current rows, its rows at the previous refresh (a real relation, weight = multiplicity) and
 * its delta (a Z-set). That is all a join needs of an input, whether the input is linear in its
 * sources or not.
 */
public sealed interface ItemOperator extends Operator permits LinearOperator, Aggregate, FunctionScan, LateralSubquery, RecomputedSubquery {
    /** Output columns plus {@code __pgt_w}, over the changes, the current or the previous state of the sources. */
    String sql(RowSource rows);

    /** Every row of {@code relation} (a call or a parenthesised query) under {@code columns}, with weight 1. */
    static String unitWeight(String relation, java.util.List<String> columns) {
        return "SELECT __pgt_x.*, 1 AS __pgt_w FROM " + relation + " AS __pgt_x("
                + columns.stream().map(io.pgtrickle.core.sql.Sql::quoteIdent).collect(java.util.stream.Collectors.joining(", ")) + ")";
    }
}
