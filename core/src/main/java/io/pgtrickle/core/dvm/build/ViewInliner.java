package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SetOperationList;

/**
 * Replaces views in FROM by their definitions (as PostgreSQL prints them, names qualified), one at
 * a time, so that the tree reads the tables whose changes are captured.
 */
final class ViewInliner {
    private ViewInliner() {
    }


    /** The query text with its first view replaced by the view's definition, or null when it reads no view. */
    static String inlineFirstView(Statement st, String sql, TreeBuilder.Resolver resolver) throws Unsupported {
        for (FromItem item : fromItems((Select) st, sql)) {
            if (item instanceof Table t && t.getSchemaName() != null) { // unqualified: a CTE reference
                TreeBuilder.Relation r = resolver.relation(t.getFullyQualifiedName());
                if ("v".equals(r.kind())) {
                    Span span = Spans.of(t);
                    if (span == null) {
                        throw new Unsupported("cannot locate view " + t.getFullyQualifiedName() + " in the query text");
                    }
                    String alias = t.getAlias() != null ? t.getAlias().getName() : t.getName();
                    return sql.substring(0, span.begin()) + "(" + r.viewDefinition() + ") " + alias + sql.substring(span.end());
                }
            }
        }
        return null;
    }

    /** Every FROM item of the query outside its WITH clause, at any depth (subqueries in expressions too). */
    static List<FromItem> fromItems(Select s, String sql) {
        List<FromItem> out = new ArrayList<>();
        if (s instanceof SetOperationList sol) {
            sol.getSelects().forEach(b -> out.addAll(fromItems(b, sql)));
        } else if (s instanceof ParenthesedSelect ps) {
            out.addAll(fromItems(ps.getSelect(), sql));
        } else if (s instanceof PlainSelect p) {
            if (p.getFromItem() != null) {
                addItem(p.getFromItem(), out, sql);
            }
            List<Expression> expressions = new ArrayList<>();
            if (p.getJoins() != null) {
                p.getJoins().forEach(j -> {
                    addItem(j.getFromItem(), out, sql);
                    if (j.getOnExpressions() != null) {
                        expressions.addAll(j.getOnExpressions());
                    }
                });
            }
            p.getSelectItems().forEach(si -> expressions.add(si.getExpression()));
            expressions.add(p.getWhere());
            expressions.add(p.getHaving());
            // views read by subqueries in expressions (EXISTS, IN, scalar) are inlined too
            expressions.forEach(e -> SublinkTemplates.nested(e, sql).forEach(sub -> out.addAll(fromItems(sub, sql))));
        }
        return out;
    }

    /** A FROM item and everything nested in it: subqueries and parenthesised joins. */
    private static void addItem(FromItem item, List<FromItem> out, String sql) {
        out.add(item);
        if (item instanceof ParenthesedSelect inner) {
            out.addAll(fromItems(inner.getSelect(), sql));
        } else if (item instanceof ParenthesedFromItem pf) {
            addItem(pf.getFromItem(), out, sql);
            if (pf.getJoins() != null) {
                pf.getJoins().forEach(j -> addItem(j.getFromItem(), out, sql));
            }
        }
    }
}
