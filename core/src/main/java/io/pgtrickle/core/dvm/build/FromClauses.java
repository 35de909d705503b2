package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.FromNode;
import io.pgtrickle.core.dvm.op.Join.Kind;
import io.pgtrickle.core.dvm.op.FunctionScan;
import io.pgtrickle.core.dvm.op.ItemOperator;
import io.pgtrickle.core.dvm.op.LateralSubquery;
import io.pgtrickle.core.dvm.op.Template;
import io.pgtrickle.core.dvm.op.SingleFrom;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.LateralSubSelect;
import net.sf.jsqlparser.statement.select.TableFunction;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;

/**
 * Builds the FROM clause of one SELECT: tables and subqueries, and the joins of them. Join
 * conditions are cut out of PostgreSQL's text (it prints each parenthesised).
 */
final class FromClauses {
    /** Builds a subquery in FROM (the tree builder's job). */
    @FunctionalInterface
    interface Subqueries {
        ItemOperator build(Select select, String sql, List<String> names) throws Unsupported;
    }

    private final TreeBuilder.Resolver resolver;
    private final Subqueries subqueries;
    private final SublinkTemplates sublinks;

    FromClauses(TreeBuilder.Resolver resolver, Subqueries subqueries) {
        this.resolver = resolver;
        this.subqueries = subqueries;
        this.sublinks = new SublinkTemplates(resolver);
    }

    /**
     * The FROM clause as a join tree. JSqlParser gives each level as a first item and a list of
     * joins; PostgreSQL parenthesises every nested join, so folding the list to the left gives the
     * tree PostgreSQL evaluates. A comma becomes a CROSS join (the same rows: an ON clause cannot
     * reference an item to the left of a comma).
     */
    FromClause fromClause(PlainSelect p, String sql) throws Unsupported {
        return new FromClause(level(p.getFromItem(), p.getJoins(), sql));
    }

    private FromNode level(FromItem first, List<Join> joins, String sql) throws Unsupported {
        FromNode node = node(first, sql);
        if (joins != null) {
            for (Join j : joins) {
                node = join(node, j, sql);
            }
        }
        return node;
    }

    private FromNode node(FromItem item, String sql) throws Unsupported {
        if (item instanceof ParenthesedFromItem pf) {
            if (pf.getAlias() != null) {
                throw new Unsupported("an aliased join (a later release)");
            }
            return level(pf.getFromItem(), pf.getJoins(), sql);
        }
        return new SingleFrom(fromItem(item, sql), aliasOf(item));
    }

    private FromNode join(FromNode left, Join j, String sql) throws Unsupported {
        if (j.isNatural()) {
            throw new Unsupported("NATURAL JOIN as written (PostgreSQL prints it as USING)");
        }
        if (j.isSemi() || j.isApply() || j.isStraight()) {
            throw new Unsupported("join kind " + j);
        }
        FromNode right = node(j.getRightItem(), sql);
        Kind kind = j.isFull() ? Kind.FULL : j.isLeft() ? Kind.LEFT : j.isRight() ? Kind.RIGHT
                : j.isCross() || j.isSimple() ? Kind.CROSS : Kind.INNER;
        List<String> using = new ArrayList<>();
        if (j.getUsingColumns() != null) {
            j.getUsingColumns().forEach(c -> using.add(c.getColumnName()));
        }
        String on = null;
        if (j.getOnExpressions() != null && !j.getOnExpressions().isEmpty()) {
            Span rightSpan = Spans.of(j.getRightItem());
            int[] at = rightSpan == null ? null : Clauses.parenthesizedAfter(sql, rightSpan.end(), "ON");
            if (at == null) {
                throw new Unsupported("cannot locate a join condition in the query text");
            }
            for (Expression e : j.getOnExpressions()) {
                ExpressionScan scan = ExpressionScan.of(e, sql, name -> false);
                if (scan.unsupported != null) {
                    throw new Unsupported(scan.unsupported);
                }
                if (!scan.sublinks.isEmpty()) {
                    throw new Unsupported("a subquery in a join condition (a later release)");
                }
            }
            on = sql.substring(at[0], at[1]);
        }
        if (kind == Kind.CROSS && (on != null || !using.isEmpty())) {
            kind = Kind.INNER;
        }
        return new io.pgtrickle.core.dvm.op.Join(kind, left, right, on, using);
    }

    private ItemOperator fromItem(FromItem from, String sql) throws Unsupported {
        if (from instanceof Table t) {
            if (t.getSchemaName() == null) { // PostgreSQL qualifies every table: this names a CTE
                throw new Unsupported("common table expression " + t.getName() + " inside a subquery or view (a later release)");
            }
            if (t.getAlias() != null && t.getAlias().getAliasColumns() != null) {
                throw new Unsupported("column aliases on table " + t.getFullyQualifiedName() + " (a later release)");
            }
            TreeBuilder.Relation r = resolver.relation(t.getFullyQualifiedName());
            return switch (r.kind()) {
                case "r", "p" -> r.scan(t.getFullyQualifiedName());
                case "m" -> throw new Unsupported("materialized view " + t.getFullyQualifiedName() + " (no change capture)");
                case "f" -> throw new Unsupported("foreign table " + t.getFullyQualifiedName() + " (no change capture)");
                default -> throw new Unsupported("relation " + t.getFullyQualifiedName() + " of kind " + r.kind());
            };
        }
        if (from instanceof TableFunction f) {
            return function(f, sql);
        }
        if (from instanceof LateralSubSelect ls) {
            return lateral(ls, sql);
        }
        if (from instanceof ParenthesedSelect ps) {
            if (ps.getAlias() == null) {
                throw new Unsupported("a subquery in FROM without alias");
            }
            List<String> names = ps.getAlias().getAliasColumns() == null ? null
                    : ps.getAlias().getAliasColumns().stream().map(c -> TreeBuilder.unquote(c.name)).toList();
            return subqueries.build(ps.getSelect(), sql, names);
        }
        throw new Unsupported("FROM item " + from.getClass().getSimpleName() + " (a later release)");
    }

    /** A LATERAL subquery: its text with its tables as slots, and its column names. */
    private LateralSubquery lateral(LateralSubSelect ls, String sql) throws Unsupported {
        if (ls.getAlias() == null) {
            throw new Unsupported("a LATERAL subquery without alias");
        }
        Select body = ls.getSelect();
        Span span = Spans.of(body);
        if (span == null) {
            throw new Unsupported("cannot locate the LATERAL subquery in the query text");
        }
        List<String> names = TreeBuilder.outputNames(body, ls.getAlias().getAliasColumns() == null ? null
                : ls.getAlias().getAliasColumns().stream().map(c -> TreeBuilder.unquote(c.name)).toList());
        Template template = sublinks.of(span.of(sql), span.begin(), List.of(body), sql);
        if (template.sublinks().isEmpty()) {
            throw new Unsupported("a LATERAL subquery that reads no table");
        }
        return new LateralSubquery(template, names);
    }

    /**
     * A set-returning function in FROM: its call as written, without LATERAL and its alias. With a
     * subquery in its arguments it reads tables, so it is a LATERAL subquery over the call.
     */
    private ItemOperator function(TableFunction f, String sql) throws Unsupported {
        Span span = Spans.of(f);
        Alias alias = f.getAlias();
        if (span == null || alias == null || alias.getAliasColumns() == null || alias.getAliasColumns().isEmpty()) {
            throw new Unsupported("cannot read the function in FROM " + f);
        }
        if (alias.getAliasColumns().stream().anyMatch(c -> c.colDataType != null)) {
            throw new Unsupported("a function in FROM with a column definition list (a later release)");
        }
        String text = span.of(sql).strip().replaceFirst("(?is)^LATERAL\\s+", "");
        // PostgreSQL prints "f(args) [WITH ORDINALITY] alias(columns)": the alias is the name
        // whose column list closes the text
        int aliasAt = -1;
        for (int at = text.lastIndexOf(alias.getName()); at > 0; at = text.lastIndexOf(alias.getName(), at - 1)) {
            int[] columns = Clauses.parenthesizedAfter(text, at + alias.getName().length(), "");
            if (Character.isWhitespace(text.charAt(at - 1)) && columns != null && columns[1] == text.length()) {
                aliasAt = at;
                break;
            }
        }
        if (aliasAt <= 0) {
            throw new Unsupported("cannot locate the alias of the function in FROM " + text);
        }
        String call = text.substring(0, aliasAt).strip().replaceFirst("(?is)\\s+AS$", "");
        List<String> columns = alias.getAliasColumns().stream().map(c -> TreeBuilder.unquote(c.name)).toList();
        if (SublinkTemplates.countSelects(call) > 0) {
            return functionOverTables(f, call, columns, sql, span);
        }
        return new FunctionScan(call, columns);
    }

    /** {@code f((SELECT ...)) AS a(x)}: as {@code LATERAL (SELECT * FROM f((SELECT ...)) AS a(x)) a}. */
    private LateralSubquery functionOverTables(TableFunction f, String call, List<String> columns, String sql, Span span)
            throws Unsupported {
        ExpressionScan scan = ExpressionScan.of(f.getFunction(), sql, name -> false);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        int offset = sql.indexOf(call, span.begin());
        if (scan.sublinks.size() != 1 || offset < 0) {
            // a change of any of them must re-run the call: one subquery is what a LATERAL unit tracks
            throw new Unsupported("a function in FROM with several subqueries in its arguments (a later release)");
        }
        Template t = sublinks.of(call, offset, scan.sublinks, sql);
        String list = columns.stream().map(io.pgtrickle.core.sql.Sql::quoteIdent).collect(java.util.stream.Collectors.joining(", "));
        return new LateralSubquery(new Template("SELECT * FROM " + t.text() + " AS __pgt_fn(" + list + ")", t.sublinks()), columns);
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
