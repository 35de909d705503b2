package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;

/** A FROM clause of one item: a table or a subquery, under the alias the expressions use. */
public record SingleFrom(LinearOperator item, String alias) implements FromClause {
    @Override
    public String select(String list, String where, RowSource rows) {
        String a = Sql.quoteIdent(alias);
        return "SELECT " + list + (list.isEmpty() ? "" : ", ") + a + ".__pgt_w FROM (" + item.sql(rows) + ") AS " + a
                + (where == null ? "" : " WHERE " + where);
    }

    @Override
    public Operator operator() {
        return item;
    }
}
