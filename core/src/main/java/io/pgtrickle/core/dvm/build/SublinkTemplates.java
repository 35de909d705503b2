package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.Sublink;
import io.pgtrickle.core.dvm.op.Template;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import net.sf.jsqlparser.expression.AnyComparisonExpression;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.ExpressionVisitorAdapter;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.NotExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExistsExpression;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.RowConstructor;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.schema.Column;
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
    /** A comparison with each element of an array or a subquery, which the parser reads as a call. */
    private static final java.util.regex.Pattern ANY_ALL = java.util.regex.Pattern.compile("(?i)(ANY|ALL|SOME)\\s*\\(");
    private final TreeBuilder.Resolver resolver;

    SublinkTemplates(TreeBuilder.Resolver resolver) {
        this.resolver = resolver;
    }

    /**
     * @param text      the expression as written, a substring of {@code sql} starting at {@code offset}
     * @param sublinks  its top-level subqueries, as {@link ExpressionScan} found them
     */
    Template of(String text, int offset, List<Select> sublinks, String sql) throws Unsupported {
        return of(text, offset, sublinks, sql, null);
    }

    /**
     * As above, for a WHERE condition {@code where} (null for other expressions): an EXISTS that is
     * one of its conjuncts, or NOT of one, may be a {@link Sublink#probe}. Only there can it be
     * computed apart, before the rest of the condition (inside a CASE or an OR, the condition may
     * guard it from rows it would fail on).
     */
    Template of(String text, int offset, List<Select> sublinks, String sql, Expression where) throws Unsupported {
        if (sublinks.isEmpty()) {
            return Template.plain(text);
        }
        record Found(Table table, Span span, int sublink) {
        }
        List<Found> found = new ArrayList<>();
        List<String> restrictions = new ArrayList<>();
        Map<Table, Expression> soleTableWhere = new IdentityHashMap<>();
        for (int i = 0; i < sublinks.size(); i++) {
            Select s = sublinks.get(i);
            List<Table> tables = new ArrayList<>();
            int selects = walk(s, sql, tables, soleTableWhere, scalar(s, sql));
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
        record Cut(int begin, int end, String text) {
        }
        List<Cut> cuts = new ArrayList<>();
        List<TreeBuilder.Relation> relations = new ArrayList<>();
        for (int slot = 0; slot < found.size(); slot++) {
            Found f = found.get(slot);
            TreeBuilder.Relation r = resolver.relation(f.table().getFullyQualifiedName());
            if (!"r".equals(r.kind()) && !"p".equals(r.kind())) {
                throw new Unsupported("relation " + f.table().getFullyQualifiedName() + " of kind " + r.kind()
                        + " inside a subquery (only tables there)");
            }
            relations.add(r);
            String alias = FromClauses.aliasOf(f.table());
            Expression own = soleTableWhere.get(f.table());
            List<Sublink.Probe> correlation = own == null || !resolver.limitsCorrelatedReads() ? List.of()
                    : equalities(own, alias, column -> true, true, sql);
            bySublink.get(f.sublink()).add(new Sublink.Table(slot,
                    r.scan(f.table().getFullyQualifiedName()), alias, correlation));
            cuts.add(new Cut(f.span().begin(), f.span().end(), Template.SLOT_MARK + slot + Template.SLOT_MARK));
        }
        List<Select> conjuncts = new ArrayList<>();
        conjunctExists(where, conjuncts);
        List<InExpression> ins = new ArrayList<>();
        conjunctIn(where, ins);
        List<Sublink> out = new ArrayList<>();
        for (int i = 0; i < sublinks.size(); i++) {
            List<Sublink.Table> tables = bySublink.get(i);
            Select s = sublinks.get(i);
            InExpression in = tables.isEmpty() ? null : ins.stream().filter(x -> x.getRightExpression() == s).findFirst().orElse(null);
            int[] at = in == null ? null : inParts(in, s, sql, offset, offset + text.length());
            if (at != null) {
                String slot = String.valueOf(tables.get(0).slot());
                cuts.add(new Cut(at[0], at[0], Template.IN_START + slot + Template.IN_START));
                cuts.add(new Cut(at[1], at[1], Template.IN_LEFT_END + slot + Template.IN_LEFT_END));
                cuts.add(new Cut(at[2], at[2], Template.IN_SUBQUERY + slot + Template.IN_SUBQUERY));
                cuts.add(new Cut(at[3], at[3], Template.IN_END + slot + Template.IN_END));
            }
            Probe probe = restrictions.get(i) != null && tables.size() == 1 && conjuncts.stream().anyMatch(c -> c == s)
                    ? probe(s, sql, tables.get(0).alias(), relations.get(tables.get(0).slot()))
                    : null;
            if (probe != null && probe.exists() < offset) {
                probe = null; // the EXISTS keyword outside the text: not a shape PostgreSQL prints
            }
            if (probe != null) {
                String slot = String.valueOf(tables.get(0).slot());
                cuts.add(new Cut(probe.exists(), probe.exists(), Template.PROBE_START + slot + Template.PROBE_START));
                cuts.add(new Cut(probe.select(), probe.select(), Template.OFFSET_MARK + slot + Template.OFFSET_MARK));
                cuts.add(new Cut(probe.end(), probe.end(), Template.PROBE_END + slot + Template.PROBE_END));
            }
            String restriction = restrictions.get(i);
            boolean perRow = false;
            String byValue = at == null || tables.size() != 1 ? null : inRestriction(s, in, sql, at, tables.get(0));
            if (byValue != null) {
                restriction = byValue;
                perRow = grouped(s);
            }
            out.add(new Sublink(tables, restriction, probe == null ? null : probe.by(), perRow));
        }
        cuts.sort(Comparator.comparingInt(Cut::begin));
        StringBuilder b = new StringBuilder();
        int at = 0;
        for (Cut c : cuts) {
            b.append(text, at, c.begin() - offset).append(c.text());
            at = c.end() - offset;
        }
        b.append(text.substring(at));
        return new Template(b.toString(), out);
    }

    /**
     * Whether {@code s} is a scalar (or ARRAY) subquery of an expression: not the subquery of an
     * EXISTS, IN, ANY, ALL or SOME, which PostgreSQL may turn into a semi or anti join as long as
     * its FROM reads nothing of the outer row.
     */
    private static boolean scalar(Select s, String sql) {
        Span whole = Spans.of(s);
        if (whole == null) {
            return false;
        }
        java.util.regex.Matcher last = LAST_WORD.matcher(sql.substring(0, whole.begin()));
        return !last.find() || !SEMI_JOIN_KEYWORDS.contains(last.group(1).toUpperCase(Locale.ROOT));
    }

    private static final java.util.regex.Pattern LAST_WORD = java.util.regex.Pattern.compile("(\\w+)\\s*$");
    private static final java.util.Set<String> SEMI_JOIN_KEYWORDS = java.util.Set.of("EXISTS", "IN", "ANY", "ALL", "SOME");

    /**
     * The tables a subquery reads, at any depth; returns the number of SELECTs walked. A table that
     * is the only FROM item of its SELECT, when that SELECT is a {@link #scalar} subquery
     * ({@code gated}), goes into {@code soleTableWhere} with that SELECT's WHERE: its previous state
     * may read the outer row in its FROM ({@link Sublink.Table#correlation}). The subquery of an
     * EXISTS or IN may not: PostgreSQL would no longer join it as a semi join, and run it per outer
     * row, each run a scan of the table when no index serves it.
     */
    private int walk(Select s, String sql, List<Table> tables, Map<Table, Expression> soleTableWhere, boolean gated)
            throws Unsupported {
        if (s instanceof ParenthesedSelect ps) {
            return walk(ps.getSelect(), sql, tables, soleTableWhere, gated);
        }
        if (s instanceof SetOperationList sol) {
            int n = 0;
            for (Select b : sol.getSelects()) {
                n += walk(b, sql, tables, soleTableWhere, gated);
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
        if (gated && p.getFromItem() instanceof Table only && (p.getJoins() == null || p.getJoins().isEmpty()) && p.getWhere() != null) {
            soleTableWhere.put(only, p.getWhere());
        }
        if (p.getFromItem() != null) {
            n += walkFrom(p.getFromItem(), sql, tables, expressions, soleTableWhere);
        }
        if (p.getJoins() != null) {
            for (Join j : p.getJoins()) {
                n += walkFrom(j.getRightItem(), sql, tables, expressions, soleTableWhere);
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
                n += walk(nested, sql, tables, soleTableWhere, scalar(nested, sql));
            }
        }
        return n;
    }

    private int walkFrom(FromItem item, String sql, List<Table> tables, List<Expression> expressions,
                         Map<Table, Expression> soleTableWhere) throws Unsupported {
        if (item instanceof Table t) {
            tables.add(t);
            return 0;
        }
        if (item instanceof ParenthesedSelect ps) {
            return walk(ps.getSelect(), sql, tables, soleTableWhere, false);
        }
        if (item instanceof ParenthesedFromItem pf) {
            int n = walkFrom(pf.getFromItem(), sql, tables, expressions, soleTableWhere);
            if (pf.getJoins() != null) {
                for (Join j : pf.getJoins()) {
                    n += walkFrom(j.getRightItem(), sql, tables, expressions, soleTableWhere);
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
     * Where a {@link Sublink#probe} subquery is in the text: the start of its EXISTS keyword, the
     * end of its SELECT (where {@code OFFSET 0} goes) and the end of its parentheses; and the
     * equality it probes the index by.
     */
    private record Probe(int exists, int select, int end, Sublink.Probe by) {
    }

    /** The {@code x IN (subquery)} that are conjuncts of {@code where} (not NOT IN). */
    private static void conjunctIn(Expression where, List<InExpression> into) {
        Expression e = unparenthesized(where);
        if (e instanceof AndExpression and) {
            conjunctIn(and.getLeftExpression(), into);
            conjunctIn(and.getRightExpression(), into);
        } else if (e instanceof InExpression in && !in.isNot() && in.getRightExpression() instanceof Select) {
            into.add(in);
        }
    }

    /**
     * Where the parts of {@code left IN (subquery)} are in {@code sql}: the left operand's start and
     * end, the subquery's parentheses' start and end; null unless the left operand is one value
     * without a subquery, the subquery returns one column, and only {@code IN} is between them.
     */
    private static int[] inParts(InExpression in, Select subquery, String sql, int begin, int end) {
        Span left = Spans.of(in.getLeftExpression());
        Span whole = Spans.of(subquery);
        Select inner = unwrapped(subquery);
        if (left == null || whole == null || left.begin() < begin || whole.end() > end || left.end() > whole.begin()
                || !(inner instanceof PlainSelect p) || p.getSelectItems().size() != 1
                // a column: an expression would be evaluated on rows the subquery's other conditions
                // leave out, once the equality is pushed down to them (t.s::numeric on non-numbers)
                || !(unparenthesized(p.getSelectItems().get(0).getExpression()) instanceof Column)
                || unparenthesized(in.getLeftExpression()) instanceof ParenthesedExpressionList<?>
                || unparenthesized(in.getLeftExpression()) instanceof RowConstructor<?>
                || !nested(in.getLeftExpression(), sql).isEmpty()
                || !sql.substring(left.end(), whole.begin()).strip().equalsIgnoreCase("IN")) {
            return null;
        }
        return new int[] {left.begin(), left.end(), whole.begin(), whole.end()};
    }

    /** The subqueries of the EXISTS that are conjuncts of {@code where}, or NOT of one. */
    private static void conjunctExists(Expression where, List<Select> into) {
        Expression e = unparenthesized(where);
        if (e instanceof AndExpression and) {
            conjunctExists(and.getLeftExpression(), into);
            conjunctExists(and.getRightExpression(), into);
            return;
        }
        if (e instanceof NotExpression not) {
            e = unparenthesized(not.getExpression());
        }
        if (e instanceof ExistsExpression exists && exists.getRightExpression() instanceof Select s) {
            into.add(s);
        }
    }

    /**
     * For an EXISTS subquery over one table (restricted, see {@link #restriction}) whose WHERE has a
     * conjunct {@code alias.c = <outer value>} with {@code c} leading an index of the table: where
     * it is and how it probes ({@link Sublink#probe}); else null.
     */
    private static Probe probe(Select s, String sql, String alias, TreeBuilder.Relation table) {
        Span whole = Spans.of(s);
        Sublink.Probe by = s instanceof ParenthesedSelect ps && ps.getSelect() instanceof PlainSelect p && whole != null
                ? equalities(p.getWhere(), alias, table.indexLeads()::contains, false, sql).stream().findFirst().orElse(null) : null;
        if (by == null) {
            return null;
        }
        String before = sql.substring(0, whole.begin()).stripTrailing();
        int exists = before.length() - 6; // a position in sql: compared without changing case, which may change lengths
        if (exists < 0 || !before.regionMatches(true, exists, "EXISTS", 0, 6) || exists > 0 && isWordChar(before.charAt(exists - 1))) {
            return null;
        }
        Span select = Spans.of(((ParenthesedSelect) s).getSelect());
        return select != null && select.end() < whole.end() ? new Probe(exists, select.end(), whole.end(), by) : null;
    }

    /**
     * The conjuncts of {@code where} equating a column of {@code alias} that {@code columns} accepts
     * with an outer value (with {@code columnOnly}, a column of an outer row and nothing else), a
     * column at most once.
     */
    private static List<Sublink.Probe> equalities(Expression where, String alias, Predicate<String> columns, boolean columnOnly,
                                                  String sql) {
        List<Sublink.Probe> out = new ArrayList<>();
        collectEqualities(where, alias, columns, columnOnly, sql, out);
        return out;
    }

    private static void collectEqualities(Expression where, String alias, Predicate<String> columns, boolean columnOnly,
                                          String sql, List<Sublink.Probe> into) {
        Expression e = unparenthesized(where);
        if (e instanceof AndExpression and) {
            collectEqualities(and.getLeftExpression(), alias, columns, columnOnly, sql, into);
            collectEqualities(and.getRightExpression(), alias, columns, columnOnly, sql, into);
            return;
        }
        if (!(e instanceof EqualsTo eq)) {
            return;
        }
        Sublink.Probe left = equality(eq.getLeftExpression(), eq.getRightExpression(), alias, columns, columnOnly, sql);
        Sublink.Probe by = left != null ? left : equality(eq.getRightExpression(), eq.getLeftExpression(), alias, columns, columnOnly, sql);
        if (by != null && into.stream().noneMatch(p -> p.column().equals(by.column()))) {
            into.add(by);
        }
    }

    /**
     * {@code inner = outer} as a probe: {@code inner} a column of {@code alias} that {@code columns}
     * accepts, {@code outer} reading only other, qualified columns (at least one) and no subquery
     * (with {@code columnOnly}: one such column, which cannot fail to evaluate); else null.
     */
    private static Sublink.Probe equality(Expression inner, Expression outer, String alias, Predicate<String> columns,
                                          boolean columnOnly, String sql) {
        inner = unparenthesized(inner);
        Span column = Spans.of(inner);
        Span value = Spans.of(outer);
        if (!(inner instanceof Column c) || c.getTable() == null || c.getTable().getName() == null || value == null
                || column == null || column.of(sql).contains("[") // an element or slice (o.tags[1]): not the indexed value
                || ANY_ALL.matcher(value.of(sql)).lookingAt() // = ANY (array): not an equality with one value
                || !TreeBuilder.unquote(c.getTable().getName()).equals(alias) || !columns.test(TreeBuilder.unquote(c.getColumnName()))
                || !nested(outer, sql).isEmpty()
                || columnOnly && (!(unparenthesized(outer) instanceof Column) || value.of(sql).contains("["))) {
            return null;
        }
        return readsOnlyOthers(outer, alias, null) ? new Sublink.Probe(TreeBuilder.unquote(c.getColumnName()), value.of(sql)) : null;
    }

    /**
     * Whether {@code e} reads columns (at least one), each qualified by a name other than
     * {@code alias}, or, with {@code inner} not null, unqualified and named neither as one of
     * {@code inner} nor as a column of ours ({@code __pgt_...}).
     */
    private static boolean readsOnlyOthers(Expression e, String alias, List<String> inner) {
        List<Column> read = new ArrayList<>();
        e.accept(new ExpressionVisitorAdapter<Void>() {
            @Override
            public <S> Void visit(Column col, S context) {
                read.add(col);
                return null;
            }
        }, null);
        return !read.isEmpty() && read.stream().allMatch(col -> col.getTable() != null && col.getTable().getName() != null
                ? !TreeBuilder.unquote(col.getTable().getName()).equals(alias)
                : inner != null && !inner.contains(TreeBuilder.unquote(col.getColumnName()))
                        && !TreeBuilder.unquote(col.getColumnName()).startsWith("__pgt_"));
    }

    /** The expression inside its parentheses, as PostgreSQL prints every operand of AND and =. */
    private static Expression unparenthesized(Expression e) {
        while (e instanceof ParenthesedExpressionList<?> list && list.size() == 1) {
            e = list.get(0);
        }
        return e;
    }

    private static boolean isWordChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }

    /**
     * For a subquery over a single table with no grouping, ordering or nested subquery: its WHERE
     * (or "true"), which tells which changed rows can matter to an outer row. Null otherwise.
     */
    private static String restriction(Select s, String sql) throws Unsupported {
        Select inner = unwrapped(s);
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

    /**
     * For {@code x IN (SELECT k FROM t [WHERE w] [GROUP BY ..., k, ...] [HAVING h])}, a conjunct of
     * WHERE ({@code at}: where x and the subquery are, see {@link #inParts}), {@code w} being free of
     * subqueries: whether a value v is in the subquery's result depends only on the rows of t whose
     * k equals v (every group that returns v holds only such rows). In WHERE, a NULL IN is a false
     * one, so only the outer rows whose x equals the k of a changed row of t can change:
     * {@code [(w) AND] (x) = k}, evaluated over the changed rows of t under {@code alias}, the
     * operands in the IN's order. Null for other shapes, when the subquery groups values of t that
     * can be equal without being identical ({@link io.pgtrickle.core.dvm.op.Scan#valueEqual}), and
     * unless x reads columns, none of which the changed rows would hide: qualified by another name
     * than the alias, or unqualified and not a column of the changed rows.
     */
    private static String inRestriction(Select s, InExpression in, String sql, int[] at, Sublink.Table table) {
        String alias = table.alias();
        Select inner = unwrapped(s);
        if (!(inner instanceof PlainSelect p) || !(p.getFromItem() instanceof Table)
                || (p.getJoins() != null && !p.getJoins().isEmpty()) || (p.getHaving() != null && p.getGroupBy() == null)
                || p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null
                || p.getLimit() != null || p.getOffset() != null || p.getFetch() != null || p.getOrderByElements() != null
                || !nested(p.getWhere(), sql).isEmpty() || !nested(p.getHaving(), sql).isEmpty()
                || p.getWindowDefinitions() != null && !p.getWindowDefinitions().isEmpty()) {
            return null;
        }
        Span item = Spans.of(p.getSelectItems().get(0).getExpression());
        Span from = Spans.of(p.getFromItem());
        Span whole = Spans.of(p);
        if (item == null || from == null || whole == null) {
            return null;
        }
        String k = sql.substring(item.begin(), item.end()).strip();
        Clauses clauses = Clauses.of(sql.substring(from.end(), whole.end()));
        // A group returns one of its equal k values: the IN's = must not tell them apart (citext, or
        // a nondeterministic collation, against a text compared bytewise), so its values must be
        // equal only when identical. Without grouping, any = is the IN's own.
        if (grouped(s) && !table.scan().valueEqual()) {
            return null;
        }
        if (p.getGroupBy() != null && (clauses.groupBy().stream().noneMatch(g -> g.strip().equals(k))
                || clauses.groupBy().stream().anyMatch(g -> GROUPING.matcher(g.strip()).lookingAt()))) {
            return null;
        }
        if (!readsOnlyOthers(in.getLeftExpression(), alias, table.scan().columns())) {
            return null;
        }
        String x = sql.substring(at[0], at[1]).strip();
        return (clauses.where() == null ? "" : "(" + clauses.where() + ") AND ") + "(" + x + ") = " + k;
    }

    private static final java.util.regex.Pattern GROUPING = java.util.regex.Pattern.compile("(?i)(ROLLUP|CUBE|GROUPING\\s+SETS|\\()");

    /** Whether the subquery's rows are grouped (GROUP BY or DISTINCT), so that PostgreSQL computes it whole to join it. */
    private static boolean grouped(Select s) {
        return unwrapped(s) instanceof PlainSelect p && (p.getGroupBy() != null || p.getDistinct() != null);
    }

    /** The SELECT inside a subquery's parentheses. */
    private static Select unwrapped(Select s) {
        return s instanceof ParenthesedSelect ps ? ps.getSelect() : s;
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
