package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.Sublink;
import io.pgtrickle.core.dvm.op.Template;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;

/**
 * Turns an expression with subqueries into a {@link Template}: every table the subqueries read
 * (at any depth) becomes a slot, so that the expression can be evaluated against the tables' state
 * before the refresh window as well as against the current one.
 */
final class SublinkTemplates {
    private final TreeBuilder.Resolver resolver;

    SublinkTemplates(TreeBuilder.Resolver resolver) {
        this.resolver = resolver;
    }

    /**
     * @param text      the expression as written, a substring of {@code sql} starting at {@code offset}
     * @param sublinks  its top-level subqueries, as {@link ExpressionScan} found them
     */
    Template of(String text, int offset, List<Select> sublinks, String sql) throws Unsupported {
        if (sublinks.isEmpty()) {
            return Template.plain(text);
        }
        record Found(Table table, Span span, int sublink) {
        }
        List<Found> found = new ArrayList<>();
        List<String> restrictions = new ArrayList<>();
        for (int i = 0; i < sublinks.size(); i++) {
            Select s = sublinks.get(i);
            List<Table> tables = new ArrayList<>();
            int selects = walk(s, sql, tables);
            Span whole = Spans.of(s);
            if (whole != null && countSelects(whole.of(sql)) != selects) {
                throw new Unsupported("a subquery in a place the compiler does not look into");
            }
            for (Table t : tables) {
                Span span = Spans.of(t);
                if (span == null || span.begin() < offset || span.end() > offset + text.length()) {
                    throw new Unsupported("cannot locate table " + t.getFullyQualifiedName() + " of a subquery in the query text");
                }
                found.add(new Found(t, span, i));
            }
            restrictions.add(restriction(s, sql));
        }
        found.sort(Comparator.comparingInt(f -> f.span().begin()));
        List<List<Sublink.Table>> bySublink = new ArrayList<>();
        sublinks.forEach(s -> bySublink.add(new ArrayList<>()));
        StringBuilder b = new StringBuilder();
        int at = 0;
        for (int slot = 0; slot < found.size(); slot++) {
            Found f = found.get(slot);
            TreeBuilder.Relation r = resolver.relation(f.table().getFullyQualifiedName());
            if (!"r".equals(r.kind()) && !"p".equals(r.kind())) {
                throw new Unsupported("relation " + f.table().getFullyQualifiedName() + " of kind " + r.kind()
                        + " inside a subquery (only tables there)");
            }
            String alias = FromClauses.aliasOf(f.table());
            bySublink.get(f.sublink()).add(new Sublink.Table(slot,
                    r.scan(f.table().getFullyQualifiedName()), alias));
            b.append(text, at, f.span().begin() - offset).append('\u0001').append(slot).append('\u0001');
            at = f.span().end() - offset;
        }
        b.append(text.substring(at));
        List<Sublink> out = new ArrayList<>();
        for (int i = 0; i < sublinks.size(); i++) {
            out.add(new Sublink(bySublink.get(i), restrictions.get(i)));
        }
        return new Template(b.toString(), out);
    }

    /** The tables a subquery reads, at any depth; returns the number of SELECTs walked. */
    private int walk(Select s, String sql, List<Table> tables) throws Unsupported {
        if (s instanceof ParenthesedSelect ps) {
            return walk(ps.getSelect(), sql, tables);
        }
        if (s instanceof SetOperationList sol) {
            int n = 0;
            for (Select b : sol.getSelects()) {
                n += walk(b, sql, tables);
            }
            return n;
        }
        if (!(s instanceof PlainSelect p)) {
            throw new Unsupported("a subquery of kind " + s.getClass().getSimpleName());
        }
        if (p.getWithItemsList() != null && !p.getWithItemsList().isEmpty()) {
            throw new Unsupported("WITH inside a subquery (a later release)");
        }
        int n = 1;
        List<Expression> expressions = new ArrayList<>();
        if (p.getFromItem() != null) {
            n += walkFrom(p.getFromItem(), sql, tables, expressions);
        }
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                n += walkFrom(j.getRightItem(), sql, tables, expressions);
                if (j.getOnExpressions() != null) {
                    expressions.addAll(j.getOnExpressions());
                }
            }
        }
        for (SelectItem<?> si : p.getSelectItems()) {
            expressions.add(si.getExpression());
        }
        expressions.add(p.getWhere());
        expressions.add(p.getHaving());
        for (Expression e : expressions) {
            for (Select nested : nested(e, sql)) {
                n += walk(nested, sql, tables);
            }
        }
        return n;
    }

    private int walkFrom(FromItem item, String sql, List<Table> tables, List<Expression> expressions) throws Unsupported {
        if (item instanceof Table t) {
            tables.add(t);
            return 0;
        }
        if (item instanceof ParenthesedSelect ps) {
            return walk(ps.getSelect(), sql, tables);
        }
        if (item instanceof ParenthesedFromItem pf) {
            int n = walkFrom(pf.getFromItem(), sql, tables, expressions);
            if (pf.getJoins() != null) {
                for (Join j : pf.getJoins()) {
                    n += walkFrom(j.getRightItem(), sql, tables, expressions);
                    if (j.getOnExpressions() != null) {
                        expressions.addAll(j.getOnExpressions());
                    }
                }
            }
            return n;
        }
        throw new Unsupported("FROM item " + item.getClass().getSimpleName() + " inside a subquery (a later release)");
    }

    /** Subqueries directly inside an expression. */
    static List<Select> nested(Expression e, String sql) {
        List<Select> out = new ArrayList<>();
        if (e == null) {
            return out;
        }
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(ParenthesedSelect s, S context) {
                out.add(s);
                return null;
            }

            @Override
            public <S> Void visit(Select s, S context) {
                out.add(s);
                return null;
            }

            @Override
            public <S> Void visit(AnyComparisonExpression x, S context) {
                out.add(x.getSelect());
                return null;
            }

            @Override
            public <S> Void visit(net.sf.jsqlparser.expression.Function f, S context) {
                Select masked = MaskedSublinks.unmask(f, sql);
                if (masked != null) {
                    out.add(masked);
                    return null;
                }
                return super.visit(f, context);
            }
        }, null);
        return out;
    }

    /**
     * For a subquery over a single table with no grouping, ordering or nested subquery: its WHERE
     * (or "true"), which tells which changed rows can matter to an outer row. Null otherwise.
     */
    private static String restriction(Select s, String sql) throws Unsupported {
        Select inner = s instanceof ParenthesedSelect ps ? ps.getSelect() : s;
        if (!(inner instanceof PlainSelect p) || !(p.getFromItem() instanceof Table)
                || (p.getJoins() != null && !p.getJoins().isEmpty()) || p.getGroupBy() != null || p.getHaving() != null
                || p.getDistinct() != null || p.getLimit() != null || p.getOffset() != null || p.getFetch() != null
                || p.getOrderByElements() != null || !nested(p.getWhere(), sql).isEmpty()) {
            return null;
        }
        for (SelectItem<?> si : p.getSelectItems()) {
            if (!nested(si.getExpression(), sql).isEmpty()
                    || !ExpressionScan.withWindows(si.getExpression(), sql, name -> false).windows.isEmpty()) {
                return null;
            }
        }
        if (p.getWhere() == null) {
            return "true";
        }
        Span from = Spans.of(p.getFromItem());
        Span whole = Spans.of(p);
        if (from == null || whole == null) {
            return null;
        }
        return Clauses.of(sql.substring(from.end(), whole.end())).where();
    }

    /** How many times the keyword SELECT occurs in a text, outside quotes. */
    static int countSelects(String text) {
        int n = 0;
        String upper = text.toUpperCase(Locale.ROOT);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\'' || c == '"') {
                int j = text.indexOf(c, i + 1);
                while (j > 0 && j + 1 < text.length() && text.charAt(j + 1) == c) {
                    j = text.indexOf(c, j + 2);
                }
                if (j < 0) {
                    break;
                }
                i = j;
            } else if (upper.startsWith("SELECT", i) && (i == 0 || !Character.isLetterOrDigit(text.charAt(i - 1)) && text.charAt(i - 1) != '_')
                    && (i + 6 >= text.length() || !Character.isLetterOrDigit(text.charAt(i + 6)) && text.charAt(i + 6) != '_')) {
                n++;
            }
        }
        return n;
    }
}
