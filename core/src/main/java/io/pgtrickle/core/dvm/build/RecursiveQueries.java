package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.RecursiveCte;
import io.pgtrickle.core.dvm.op.RecursiveCte.Incremental;
import io.pgtrickle.core.dvm.op.RecursiveCte.Slot;
import io.pgtrickle.core.dvm.op.RecursiveCte.Term;
import java.util.ArrayList;
import java.util.List;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.AllColumns;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.UnionOp;
import net.sf.jsqlparser.statement.select.WithItem;

/**
 * Reads a {@code WITH RECURSIVE} query into a {@link RecursiveCte}: incremental when it is one
 * linear recursion with set semantics over plain joins that the outer query returns as it is,
 * otherwise re-run when a source changed, with the reason.
 */
final class RecursiveQueries {
    private final TreeBuilder.Resolver resolver;

    RecursiveQueries(TreeBuilder.Resolver resolver) {
        this.resolver = resolver;
    }

    static boolean isRecursive(Statement st) {
        List<WithItem<?>> with = st instanceof Select s ? s.getWithItemsList() : null;
        return with != null && with.stream().anyMatch(WithItem::isRecursive);
    }

    RecursiveCte build(Select st, String sql, List<String> names) throws Unsupported {
        for (WithItem<?> w : st.getWithItemsList()) {
            if (w.getSelect() == null) {
                throw new Unsupported("a data-modifying statement in WITH");
            }
        }
        Incremental incremental = null;
        String why;
        try {
            incremental = incremental(st, sql);
            why = null;
        } catch (NotLinear e) {
            why = e.getMessage();
        }
        return new RecursiveCte(incremental == null ? guarded(st, sql) : sql, names, List.of(), incremental, why);
    }

    /**
     * The query with a depth guard in each {@code base UNION ALL step} recursion: a hidden
     * {@code __pgt_depth} column counts the steps, and a step beyond
     * {@code pg_trickle.ivm_recursive_max_depth} raises an error instead of running on (a cycle in
     * the data makes such a recursion endless). UNION ALL keeps every row, so the extra column
     * changes no multiplicity, and the outer query names the columns it reads (it is not guarded
     * when it reads the recursive table as a whole row). A UNION recursion ends whenever its set of
     * rows is finite and is left as written.
     */
    static String guarded(Select st, String sql) throws Unsupported {
        List<int[]> inserts = new ArrayList<>(); // {position, index into texts}
        List<String> texts = new ArrayList<>();
        List<WithItem<?>> with = st.getWithItemsList();
        Span lastBody = Spans.of(with.get(with.size() - 1).getSelect());
        if (!(st instanceof PlainSelect) || lastBody == null) {
            return sql;
        }
        String outer = sql.substring(lastBody.end());
        for (WithItem<?> cte : with) {
            if (!cte.isRecursive() || cte.getSelect() == null || !(cte.getSelect().getSelect() instanceof SetOperationList sol)
                    || sol.getSelects().size() != 2 || !(sol.getOperations().get(0) instanceof UnionOp u) || !u.isAll()
                    || !(sol.getSelects().get(0) instanceof PlainSelect base) || !(sol.getSelects().get(1) instanceof PlainSelect step)) {
                continue;
            }
            String name = TreeBuilder.unquote(cte.getAliasName());
            String self = selfAlias(step.getFromItem(), step.getJoins(), name);
            Span body = Spans.of(cte.getSelect());
            Span baseLast = Spans.of(base.getSelectItems().get(base.getSelectItems().size() - 1));
            Span stepLast = Spans.of(step.getSelectItems().get(step.getSelectItems().size() - 1));
            // A whole-row reference in the outer query would see the counter; a column list shorter
            // than the select list would give the counter a user column's name.
            boolean partialList = cte.getWithItemList() != null && cte.getWithItemList().size() != base.getSelectItems().size();
            if (self == null || body == null || baseLast == null || stepLast == null || partialList
                    || wholeRow(outer, cte.getAliasName(), true)) {
                continue;
            }
            var columnList = java.util.regex.Pattern.compile("(?is)\\)\\s*AS\\s+(NOT\\s+)?(MATERIALIZED\\s+)?$")
                    .matcher(sql.substring(0, body.begin()));
            boolean hasColumns = columnList.find();
            if (hasColumns) {
                add(inserts, texts, columnList.start(), ", __pgt_depth");
            }
            add(inserts, texts, baseLast.end(), hasColumns ? ", 0" : ", 0 AS __pgt_depth");
            // in the select list, so that only a row the step produces counts (a row at the last
            // allowed depth without successors is fine); the limit as an uncorrelated subquery,
            // which PostgreSQL runs once per query (an InitPlan), not once per row as a call of the
            // STABLE PL/pgSQL function would be
            String d = self + ".__pgt_depth";
            add(inserts, texts, stepLast.end(), ", CASE WHEN " + d + " < (SELECT pgtrickle._recursion_max_depth()) THEN " + d
                    + " + 1 ELSE pgtrickle._recursion_too_deep(" + d + ") END");
        }
        StringBuilder b = new StringBuilder(sql);
        inserts.sort((x, y) -> y[0] != x[0] ? Integer.compare(y[0], x[0]) : Integer.compare(y[1], x[1]));
        for (int[] at : inserts) {
            b.insert(at[0], texts.get(at[1]));
        }
        return b.toString();
    }

    private static void add(List<int[]> inserts, List<String> texts, int position, String text) {
        inserts.add(new int[] {position, texts.size()});
        texts.add(text);
    }

    /** The name the step reads the recursive table by, or null. */
    private static String selfAlias(FromItem first, List<Join> joins, String name) {
        for (FromItems.Item it : FromItems.of(first, joins)) {
            if (it.item() instanceof Table t && t.getSchemaName() == null && TreeBuilder.unquote(t.getName()).equals(name)) {
                return t.getAlias() != null ? t.getAlias().getName() : t.getName();
            }
        }
        return null;
    }

    /** Why a recursive query is re-run rather than maintained by derivation. */
    private static final class NotLinear extends Exception {
        NotLinear(String why) {
            super(why, null, false, false);
        }
    }

    private Incremental incremental(Select st, String sql) throws NotLinear, Unsupported {
        List<WithItem<?>> with = st.getWithItemsList();
        if (with.size() != 1) {
            throw new NotLinear("more than one common table expression");
        }
        WithItem<?> cte = with.get(0);
        String name = TreeBuilder.unquote(cte.getAliasName());
        Select body = cte.getSelect().getSelect();
        if (!(body instanceof SetOperationList sol) || sol.getSelects().size() != 2
                || !(sol.getOperations().get(0) instanceof UnionOp u) || u.isAll()
                || sol.getLimit() != null || sol.getOffset() != null || sol.getFetch() != null || sol.getOrderByElements() != null) {
            throw new NotLinear("the recursion is not base UNION step (UNION ALL keeps duplicates, which it does not derive)");
        }
        if (!(sol.getSelects().get(0) instanceof PlainSelect base) || !(sol.getSelects().get(1) instanceof PlainSelect step)) {
            throw new NotLinear("a term of the recursion is not a plain SELECT");
        }
        Term baseTerm = term(base, sql, name);
        Term stepTerm = term(step, sql, name);
        if (baseTerm.slots().stream().anyMatch(Slot::self)) {
            throw new NotLinear("the base term reads the recursive table");
        }
        if (stepTerm.slots().stream().filter(Slot::self).count() != 1) {
            throw new NotLinear("the step reads the recursive table more than once");
        }
        List<String> cteColumns = new ArrayList<>();
        if (cte.getWithItemList() != null) {
            cte.getWithItemList().forEach(c -> cteColumns.add(TreeBuilder.unquote(c.toString().strip())));
        } else {
            for (SelectItem<?> si : base.getSelectItems()) {
                if (si.getAlias() != null) {
                    cteColumns.add(TreeBuilder.unquote(si.getAlias().getName()));
                } else if (si.getExpression() instanceof Column c) {
                    cteColumns.add(TreeBuilder.unquote(c.getColumnName()));
                } else {
                    throw new NotLinear("an unnamed column of the recursive table");
                }
            }
        }
        if (cteColumns.size() != baseTerm.items().size() || cteColumns.size() != stepTerm.items().size()) {
            throw new NotLinear("the terms' columns do not match the recursive table's");
        }
        if (!(st instanceof PlainSelect outer) || !returnsWhole(outer, name, cteColumns)) {
            throw new NotLinear("the outer query does more than return the recursive table's rows");
        }
        return new Incremental(name, cteColumns, baseTerm, stepTerm);
    }

    /** {@code SELECT r.a, r.b ... FROM r}: every column of the recursive table, in order, nothing else. */
    private static boolean returnsWhole(PlainSelect outer, String name, List<String> cteColumns) {
        if (outer.getJoins() != null && !outer.getJoins().isEmpty() || outer.getWhere() != null || outer.getDistinct() != null
                || outer.getGroupBy() != null || outer.getHaving() != null || outer.getOrderByElements() != null
                || outer.getLimit() != null || outer.getOffset() != null || outer.getFetch() != null
                || outer.getWindowDefinitions() != null) {
            return false;
        }
        if (!(outer.getFromItem() instanceof Table t) || t.getSchemaName() != null
                || !TreeBuilder.unquote(t.getName()).equals(name)) {
            return false;
        }
        List<SelectItem<?>> items = outer.getSelectItems();
        if (items.size() == 1 && items.get(0).getExpression() instanceof AllColumns) {
            return true;
        }
        List<String> read = new ArrayList<>();
        for (SelectItem<?> si : items) {
            if (!(si.getExpression() instanceof Column c)) {
                return false;
            }
            read.add(TreeBuilder.unquote(c.getColumnName()));
        }
        return read.equals(cteColumns);
    }

    private Term term(PlainSelect p, String sql, String name) throws NotLinear, Unsupported {
        if (p.getDistinct() != null || p.getGroupBy() != null || p.getHaving() != null || p.getWindowDefinitions() != null
                || p.getOrderByElements() != null || p.getLimit() != null || p.getOffset() != null || p.getFetch() != null
                || p.getFromItem() == null) {
            throw new NotLinear("a term with DISTINCT, GROUP BY, ORDER BY, LIMIT or without FROM");
        }
        List<String> items = new ArrayList<>();
        for (SelectItem<?> si : p.getSelectItems()) {
            checkPlain(si.getExpression(), sql);
            Span span = Spans.of(si.getExpression());
            if (span == null) {
                throw new Unsupported("cannot locate a select item of the recursion in the query text");
            }
            items.add(span.of(sql));
        }
        String where = null;
        if (p.getWhere() != null) {
            checkPlain(p.getWhere(), sql);
            Span span = Spans.of(p.getWhere());
            if (span == null) {
                throw new Unsupported("cannot locate WHERE in the query text");
            }
            where = span.of(sql);
        }
        Span from = FromClauses.fromSpan(p, sql);
        List<Slot> slots = new ArrayList<>();
        items(p.getFromItem(), p.getJoins(), sql, name, from.begin(), slots);
        // A slot is filled with a relation of other columns (the used ones, plus the engine's):
        // a whole-row reference (e.*, e::text, to_jsonb(e)) would read them.
        List<String> texts = new ArrayList<>(items);
        if (where != null) {
            texts.add(where);
        }
        for (Slot slot : slots) {
            for (String text : texts) {
                if (wholeRow(text, slot.alias(), false)) {
                    throw new NotLinear("a whole-row reference to " + slot.alias() + " in a term");
                }
            }
            if (wholeRow(from.of(sql), slot.alias(), true)) {
                throw new NotLinear("a whole-row reference to " + slot.alias() + " in a term");
            }
        }
        return new Term(items, from.of(sql), slots, where);
    }

    /** The slots of a term's FROM clause, which joins its tables (and the recursive one) with inner joins only. */
    private void items(FromItem first, List<Join> joins, String sql, String name, int offset, List<Slot> out)
            throws NotLinear, Unsupported {
        for (FromItems.Item it : FromItems.of(first, joins)) {
            Join j = it.join();
            if (j != null) {
                if (j.isOuter() || j.isLeft() || j.isRight() || j.isFull() || j.isNatural() || j.isSemi() || j.isApply()) {
                    throw new NotLinear("an outer join in a term");
                }
                if (j.getOnExpressions() != null) {
                    for (Expression e : j.getOnExpressions()) {
                        checkPlain(e, sql);
                    }
                }
            }
            if (!(it.item() instanceof ParenthesedFromItem pf && pf.getAlias() == null)) { // a bare join: its items follow
                item(it.item(), sql, name, offset, out);
            }
        }
    }

    private void item(FromItem item, String sql, String name, int offset, List<Slot> out) throws NotLinear, Unsupported {
        if (!(item instanceof Table t)) {
            throw new NotLinear("a term reads a subquery or a function");
        }
        if (t.getAlias() != null && t.getAlias().getAliasColumns() != null) {
            throw new NotLinear("column aliases on a table of a term");
        }
        Span span = Spans.of(t);
        if (span == null) {
            throw new Unsupported("cannot locate a table of the recursion in the query text");
        }
        String alias = t.getAlias() != null ? t.getAlias().getName() : t.getName();
        if (t.getSchemaName() == null) {
            if (!TreeBuilder.unquote(t.getName()).equals(name)) {
                throw new NotLinear("a term reads another common table expression");
            }
            out.add(new Slot(span.begin() - offset, span.end() - offset, alias, null));
            return;
        }
        TreeBuilder.Relation r = resolver.relation(t.getFullyQualifiedName());
        if (!r.kind().equals("r") && !r.kind().equals("p")) {
            throw new NotLinear("a term reads " + t.getFullyQualifiedName() + ", which is not a table");
        }
        if (r.columnsUsed().isEmpty()) {
            throw new NotLinear("a term reads " + t.getFullyQualifiedName() + " for none of its columns");
        }
        out.add(new Slot(span.begin() - offset, span.end() - offset, alias,
                r.scan(t.getFullyQualifiedName())));
    }

    /**
     * Whether {@code text} (an expression, or with {@code from} the FROM clause, where the alias
     * also stands as a declaration) reads the FROM item {@code alias} as a whole row: the name not
     * followed by {@code .column}.
     */
    static boolean wholeRow(String text, String alias, boolean from) {
        for (int at = text.indexOf(alias); at >= 0; at = text.indexOf(alias, at + 1)) {
            boolean before = at == 0 || !(Character.isLetterOrDigit(text.charAt(at - 1)) || "_.$\"".indexOf(text.charAt(at - 1)) >= 0);
            int end = at + alias.length();
            boolean after = end >= text.length() || !(Character.isLetterOrDigit(text.charAt(end)) || "_$\"".indexOf(text.charAt(end)) >= 0);
            if (!before || !after) {
                continue;
            }
            int next = Clauses.skipSpace(text, end);
            boolean column = next < text.length() && text.charAt(next) == '.'
                    && Clauses.skipSpace(text, next + 1) < text.length() && text.charAt(Clauses.skipSpace(text, next + 1)) != '*';
            if (!column && !(from && isFromAlias(text, at, end))) {
                return true;
            }
        }
        return false;
    }

    /** The alias as it stands in FROM: after a table name ({@code public.edges e}), or a table name itself. */
    private static boolean isFromAlias(String text, int at, int end) {
        String before = text.substring(0, at).stripTrailing();
        String after = text.substring(end).stripLeading().toUpperCase(java.util.Locale.ROOT);
        boolean followedByFrom = after.isEmpty() || after.startsWith(",") || after.startsWith(")") || after.startsWith("JOIN")
                || after.startsWith("ON") || after.startsWith("INNER") || after.startsWith("CROSS") || after.startsWith("USING");
        boolean afterName = before.isEmpty() || before.endsWith(",") || before.endsWith("(") || before.matches("(?is).*[\\w\"]")
                && !before.matches("(?is).*\\b(ON|AND|OR|NOT|WHERE|SELECT|WHEN|THEN|ELSE|IS|IN)$");
        return followedByFrom && afterName;
    }

    /** No subquery, aggregate or window function: a term stays a join of rows. */
    private void checkPlain(Expression e, String sql) throws NotLinear, Unsupported {
        ExpressionScan scan = ExpressionScan.of(e, sql, resolver::isAggregate);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        if (!scan.sublinks.isEmpty() || !scan.aggregates.isEmpty() || !scan.windows.isEmpty()) {
            throw new NotLinear("a subquery, aggregate or window function in a term");
        }
    }
}
