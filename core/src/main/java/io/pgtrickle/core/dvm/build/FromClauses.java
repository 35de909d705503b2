package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.InnerJoin;
import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * Builds the FROM clause of one SELECT: tables and subqueries, and inner joins of them (JOIN … ON,
 * CROSS JOIN, commas) flattened to items and conditions. Join conditions are cut out of
 * PostgreSQL's text (it prints each parenthesised).
 */
final class FromClauses {
    /** Builds a subquery in FROM (the tree builder's job). */
    @FunctionalInterface
    interface Subqueries {
        LinearOperator build(Select select, String sql) throws Unsupported;
    }

    private final TreeBuilder.Resolver resolver;
    private final Subqueries subqueries;

    FromClauses(TreeBuilder.Resolver resolver, Subqueries subqueries) {
        this.resolver = resolver;
        this.subqueries = subqueries;
    }

    /** The FROM clause: one item, or an inner join (JOIN … ON, CROSS JOIN, commas) flattened to items and conditions. */
    FromClause fromClause(PlainSelect p, String sql) throws Unsupported {
        List<SingleFrom> items = new ArrayList<>();
        List<String> conditions = new ArrayList<>();
        collect(p.getFromItem(), sql, items, conditions);
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                join(j, sql, items, conditions);
            }
        }
        return items.size() == 1 && conditions.isEmpty() ? items.get(0) : new InnerJoin(items, conditions);
    }

    private void collect(FromItem item, String sql, List<SingleFrom> items, List<String> conditions) throws Unsupported {
        if (item instanceof ParenthesedFromItem pf) {
            if (pf.getAlias() != null) {
                throw new Unsupported("an aliased join (a later release)");
            }
            collect(pf.getFromItem(), sql, items, conditions);
            if (pf.getJoins() != null) {
                for (Join j : pf.getJoins()) {
                    join(j, sql, items, conditions);
                }
            }
            return;
        }
        items.add(new SingleFrom(fromItem(item, sql), aliasOf(item)));
    }

    private void join(Join j, String sql, List<SingleFrom> items, List<String> conditions) throws Unsupported {
        if (j.isLeft() || j.isRight() || j.isFull() || j.isOuter() || j.isNatural() || j.isSemi() || j.isApply()
                || (j.getUsingColumns() != null && !j.getUsingColumns().isEmpty())) {
            throw new Unsupported("outer, natural and USING joins (the next release)");
        }
        collect(j.getRightItem(), sql, items, conditions);
        if (j.getOnExpressions() != null && !j.getOnExpressions().isEmpty()) {
            Span right = Spans.of(j.getRightItem());
            int[] on = right == null ? null : Clauses.parenthesizedAfter(sql, right.end(), "ON");
            if (on == null) {
                throw new Unsupported("cannot locate a join condition in the query text");
            }
            for (Expression e : j.getOnExpressions()) {
                ExpressionScan scan = ExpressionScan.of(e, sql, name -> false);
                if (scan.unsupported != null) {
                    throw new Unsupported(scan.unsupported);
                }
            }
            conditions.add(sql.substring(on[0], on[1]));
        }
    }

    private LinearOperator fromItem(FromItem from, String sql) throws Unsupported {
        if (from instanceof Table t) {
            TreeBuilder.Relation r = resolver.relation(t.getFullyQualifiedName());
            return switch (r.kind()) {
                case "r", "p" -> new Scan(r.relid(), t.getFullyQualifiedName(), r.columnsUsed());
                case "m" -> throw new Unsupported("materialized view " + t.getFullyQualifiedName() + " (no change capture)");
                case "f" -> throw new Unsupported("foreign table " + t.getFullyQualifiedName() + " (no change capture)");
                default -> throw new Unsupported("relation " + t.getFullyQualifiedName() + " of kind " + r.kind());
            };
        }
        if (from instanceof ParenthesedSelect ps) {
            if (ps.getAlias() == null) {
                throw new Unsupported("a subquery in FROM without alias");
            }
            return subqueries.build(ps.getSelect(), sql);
        }
        throw new Unsupported("FROM item " + from.getClass().getSimpleName() + " (a later release)");
    }

    static String aliasOf(FromItem from) throws Unsupported {
        Alias a = from.getAlias();
        if (a != null) {
            return TreeBuilder.unquote(a.getName());
        }
        if (from instanceof Table t) {
            return TreeBuilder.unquote(t.getName());
        }
        throw new Unsupported("a FROM item without a name");
    }

    /** The whole FROM clause: from the first item to the end of the last joined item and its condition. */
    static Span fromSpan(PlainSelect p, String sql) throws Unsupported {
        Span first = Spans.of(p.getFromItem());
        if (first == null) {
            throw new Unsupported("cannot locate the FROM clause in the query text");
        }
        int end = first.end();
        if (p.getJoins() != null && !p.getJoins().isEmpty()) {
            Span last = Spans.of(p.getJoins().get(p.getJoins().size() - 1).getRightItem());
            if (last == null) {
                throw new Unsupported("cannot locate the FROM clause in the query text");
            }
            end = last.end();
            int[] on = Clauses.parenthesizedAfter(sql, end, "ON");
            if (on != null) {
                end = on[1];
            }
        }
        return new Span(first.begin(), end);
    }
}
