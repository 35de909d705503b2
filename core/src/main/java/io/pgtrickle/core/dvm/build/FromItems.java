package io.pgtrickle.core.dvm.build;

import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SetOperationList;

/**
 * The walk over the FROM items of a query: those of one FROM clause ({@link #of}), or those of the
 * whole query at any depth ({@link #atAnyDepth}). JSqlParser gives a FROM clause as a first item
 * and a list of joins, and a parenthesised join as an item holding the same again.
 */
final class FromItems {
    private FromItems() {
    }

    /**
     * One item of a FROM clause.
     *
     * @param join    the join that brings it in, or null for the first item of its level
     * @param visible whether its name can be referenced in the SELECT: not inside a parenthesised
     *                join with an alias (the alias hides the names it joins)
     */
    record Item(FromItem item, Join join, boolean visible) {
    }

    /**
     * The items of one FROM clause in the order written: the first item, then each join's; a
     * parenthesised join is an item followed by the items it joins (at any depth). A subquery is
     * an item whose FROM is not entered.
     */
    static List<Item> of(FromItem first, List<Join> joins) {
        List<Item> out = new ArrayList<>();
        addLevel(first, joins, true, out);
        return out;
    }

    private static void addLevel(FromItem first, List<Join> joins, boolean visible, List<Item> out) {
        add(first, null, visible, out);
        if (joins != null) {
            joins.forEach(j -> add(j.getRightItem(), j, visible, out));
        }
    }

    private static void add(FromItem item, Join join, boolean visible, List<Item> out) {
        if (item == null) {
            return;
        }
        out.add(new Item(item, join, visible));
        if (item instanceof ParenthesedFromItem pf) {
            addLevel(pf.getFromItem(), pf.getJoins(), visible && pf.getAlias() == null, out);
        }
    }

    /** Every FROM item of the query outside its WITH clause, at any depth (subqueries in expressions too). */
    static List<FromItem> atAnyDepth(Select s, String sql) {
        List<FromItem> out = new ArrayList<>();
        if (s instanceof SetOperationList sol) {
            sol.getSelects().forEach(b -> out.addAll(atAnyDepth(b, sql)));
        } else if (s instanceof ParenthesedSelect ps) {
            out.addAll(atAnyDepth(ps.getSelect(), sql));
        } else if (s instanceof PlainSelect p) {
            for (Item it : of(p.getFromItem(), p.getJoins())) {
                out.add(it.item());
                if (it.item() instanceof ParenthesedSelect inner) {
                    out.addAll(atAnyDepth(inner.getSelect(), sql));
                }
            }
            List<Expression> expressions = new ArrayList<>();
            if (p.getJoins() != null) {
                p.getJoins().stream().filter(j -> j.getOnExpressions() != null).forEach(j -> expressions.addAll(j.getOnExpressions()));
            }
            p.getSelectItems().forEach(si -> expressions.add(si.getExpression()));
            expressions.add(p.getWhere());
            expressions.add(p.getHaving());
            // the tables read by subqueries in expressions (EXISTS, IN, scalar) count too
            expressions.forEach(e -> SublinkTemplates.nested(e, sql).forEach(sub -> out.addAll(atAnyDepth(sub, sql))));
        }
        return out;
    }
}
