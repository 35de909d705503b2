package io.pgtrickle.core.dvm.op;

/**
 * The FROM clause of one SELECT, rendered together with that SELECT's list and WHERE so that the
 * user's expressions keep resolving their {@code alias.column} references: one item, or an inner
 * join of several.
 */
public sealed interface FromClause permits SingleFrom, InnerJoin {
    /**
     * {@code SELECT <list>, <weight> AS __pgt_w FROM ... [WHERE <where>]} over the changes of the
     * sources ({@link RowSource.Changes}: the delta) or over their current state.
     */
    String select(String list, String where, RowSource rows);

    /** The operators under this clause, for explain. */
    Operator operator();
}
