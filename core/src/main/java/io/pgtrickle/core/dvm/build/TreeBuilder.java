package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.ExpressionScan.Found;
import io.pgtrickle.core.dvm.build.Spans.Replacement;
import io.pgtrickle.core.dvm.build.Spans.Span;
import io.pgtrickle.core.dvm.op.Aggregate;
import io.pgtrickle.core.dvm.op.Distinct;
import io.pgtrickle.core.dvm.op.FromClause;
import io.pgtrickle.core.dvm.op.ItemOperator;
import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Operator;
import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.Template;
import io.pgtrickle.core.dvm.op.UnionAll;
import io.pgtrickle.core.dvm.op.Window;
import io.pgtrickle.core.dvm.op.RecomputedSubquery;
import io.pgtrickle.core.sql.QueryText;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.regex.Pattern;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Alias;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Join;
import net.sf.jsqlparser.statement.select.ParenthesedFromItem;
import net.sf.jsqlparser.statement.select.GroupByElement;
import net.sf.jsqlparser.statement.select.ParenthesedSelect;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.SelectItem;
import net.sf.jsqlparser.statement.select.SetOperation;
import net.sf.jsqlparser.statement.select.SetOperationList;
import net.sf.jsqlparser.statement.select.UnionOp;

/**
 * Builds the operator tree from the query as PostgreSQL printed it back (names qualified,
 * expressions fully parenthesised). The parser only finds the clauses; every expression is kept
 * as PostgreSQL's own text, located by position. Views are inlined as subqueries first.
 */
public final class TreeBuilder {
    /** What the builder needs to know about relations and functions; answered by PostgreSQL. */
    public interface Resolver {
        /** The relation a FROM item names, as written in the query text. */
        Relation relation(String qualifiedName) throws Unsupported;

        boolean isAggregate(String functionName);

        /**
         * Whether a scalar subquery's reads of a table's changed rows are limited to the outer row's
         * values ({@link io.pgtrickle.core.dvm.op.Sublink.Table#correlation}). The limit compares
         * {@code outer = inner}, the user's equality with its operands swapped, which fails to plan
         * where the operator has no commutator ({@code xid = integer}); such a query is compiled
         * again without it.
         */
        default boolean limitsCorrelatedReads() {
            return true;
        }
    }

    /**
     * A relation in a FROM clause: a view carries its definition, to be inlined.
     *
     * @param indexable the used columns that are NOT NULL and have equality (a row lookup by them can use an index)
     * @param key       the primary key's columns, all among the used ones; empty when the table has none
     * @param valueEqual whether equal values of every used column have the same text ({@link Scan#valueEqual})
     * @param indexLeads the columns (of all, used or not) that lead a valid, non-partial btree or hash
     *                   index: an equality on one of them is an index probe
     * @param types      the type of each used column ({@link Scan#types})
     */
    public record Relation(long relid, String kind, String viewDefinition, List<String> columnsUsed, List<String> indexable,
                           List<String> key, boolean valueEqual, List<String> indexLeads, java.util.Map<String, String> types) {
        public Relation {
            indexLeads = List.copyOf(indexLeads);
            types = java.util.Map.copyOf(types);
        }

        /** A relation without a primary key among its used columns and without indexes. */
        public Relation(long relid, String kind, String viewDefinition, List<String> columnsUsed, List<String> indexable) {
            this(relid, kind, viewDefinition, columnsUsed, indexable, List.of(), false, List.of(), java.util.Map.of());
        }

        /** The {@link Scan} of this table. */
        public Scan scan(String table) {
            return new Scan(relid, table, columnsUsed, indexable, key, valueEqual, types, null);
        }
    }

    private static final int MAX_INLINED = 256;
    private final Resolver resolver;
    private final FromClauses fromClauses;
    private final SublinkTemplates sublinks;

    public TreeBuilder(Resolver resolver) {
        this.resolver = resolver;
        this.fromClauses = new FromClauses(resolver, this::item);
        this.sublinks = new SublinkTemplates(resolver);
    }

    /** The result: the tree and the query text it was built from (views inlined). */
    public record Built(Operator root, String sql) {
    }

    /** @param outputNames the query's output column names as PostgreSQL derived them */
    public Built build(String query, List<String> outputNames) throws Unsupported {
        return build(query, outputNames, null);
    }

    /** @param outputTypes their types (format_type), or null when not known */
    public Built build(String query, List<String> outputNames, List<String> outputTypes) throws Unsupported {
        String sql = QueryParser.prepared(query);
        for (int depth = 0; depth < MAX_INLINED; depth++) {
            String expanded = sql.stripLeading().regionMatches(true, 0, "WITH", 0, 4) ? null
                    : GroupingSets.expand(sql, outputNames, outputTypes, this::parsePlain, resolver::isAggregate);
            if (expanded != null) {
                sql = expanded;
                continue;
            }
            Statement st = parse(sql);
            if (RecursiveQueries.isRecursive(st)) {
                // (it recomputes a term with a whole-row reference from the tables themselves)
                return new Built(new RecursiveQueries(resolver).build((Select) st, sql, outputNames), sql);
            }
            String wholeRow = io.pgtrickle.core.sql.QueryText.wholeRowReference(sql);
            if (wholeRow != null) {
                // No column of the row is captured for it (PostgreSQL records no dependency on them).
                throw new Unsupported("a whole-row reference (" + wholeRow + ") reads every column of its table,"
                        + " which differential maintenance does not follow (a later release)");
            }
            String inlined = CteInliner.inlineFirst(st, sql);
            if (inlined != null) {
                sql = inlined;
                continue;
            }
            inlined = ViewInliner.inlineFirstView(st, sql, resolver);
            if (inlined == null) {
                return new Built(root((Select) st, sql, outputNames, outputTypes), sql);
            }
            sql = inlined;
        }
        throw new Unsupported("more than " + MAX_INLINED + " views, common table expressions and grouping sets to expand");
    }

    private PlainSelect parsePlain(String sql) throws Unsupported {
        if (!(parse(sql) instanceof PlainSelect p)) {
            throw new Unsupported("cannot read the SELECT with grouping sets");
        }
        return p;
    }

    private static Statement parse(String sql) throws Unsupported {
        try {
            Statement st = QueryParser.parse(sql);
            if (!(st instanceof Select)) {
                throw new Unsupported("not a SELECT");
            }
            return st;
        } catch (JSQLParserException | RuntimeException e) {
            String first = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            throw new Unsupported("the SQL parser does not understand this query (" + first + ")");
        }
    }

    // ---- the tree ------------------------------------------------------------------------------

    private Operator root(Select s, String sql, List<String> names, List<String> types) throws Unsupported {
        if (s instanceof PlainSelect p && limited(p.getLimit(), p.getOffset(), p.getFetch())
                || s instanceof SetOperationList l && limited(l.getLimit(), l.getOffset(), l.getFetch())) {
            int orderBy = Clauses.keyword(sql, "ORDER BY");
            if (orderBy < 0) {
                throw new Unsupported("LIMIT, OFFSET or FETCH without ORDER BY");
            }
            return new io.pgtrickle.core.dvm.op.TopK(sql, sql.substring(orderBy).strip(), names, List.of());
        }
        if (s instanceof SetOperationList sol
                && !onlyUnionAll(sol)) {
            return setOperation(sol, sql, names, types);
        }
        if (s instanceof PlainSelect p && hasWindows(p, sql)) {
            return window(p, sql, names);
        }
        if (s instanceof PlainSelect p && p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null
                && !isAggregate(p, sql)) {
            return distinctOn(p, sql, names);
        }
        if (s instanceof PlainSelect p && grouped(p, sql)) {
            return p.getDistinct() != null ? new Distinct(project(p, sql, names)) : aggregate(p, sql, names, false);
        }
        return linear(s, sql, names);
    }

    /** Whether a SELECT groups its rows (GROUP BY, aggregates, DISTINCT); refuses the forms not maintained. */
    private boolean grouped(PlainSelect p, String sql) throws Unsupported {
        boolean aggregate = isAggregate(p, sql);
        if (!aggregate && p.getDistinct() == null) {
            return false;
        }
        checkPlain(p);
        if (p.getDistinct() != null) {
            if (p.getDistinct().getOnSelectItems() != null) {
                throw new Unsupported(aggregate ? "DISTINCT ON together with aggregates (a later release)"
                        : "DISTINCT ON below the top of the query (a later release)");
            }
            if (aggregate) {
                throw new Unsupported("DISTINCT together with aggregates");
            }
        }
        return true;
    }

    /**
     * A subquery in FROM or a branch of UNION ALL: grouped (GROUP BY, aggregates, DISTINCT) or
     * linear. {@code names} renames its outputs (a column alias list; may be shorter), or is null.
     */
    private ItemOperator item(Select s, String sql, List<String> names) throws Unsupported {
        String nonLinear = nonLinearKind(s, sql);
        if (nonLinear != null) {
            return recomputed(s, sql, names, nonLinear);
        }
        if (s instanceof ParenthesedSelect ps) {
            checkNoLimit(ps.getLimit(), ps.getOffset(), ps.getFetch());
            return item(ps.getSelect(), sql, names);
        }
        if (s instanceof PlainSelect p && grouped(p, sql)) {
            return p.getDistinct() != null ? distinctGroups(p, sql, names) : aggregate(p, sql, names, true);
        }
        return linear(s, sql, names);
    }

    /**
     * What makes a subquery's rows other than a sum over its input rows (window functions, DISTINCT
     * ON, a set operation other than UNION ALL, LIMIT, grouping sets), or null when nothing does.
     */
    private String nonLinearKind(Select s, String sql) {
        Select inner = unparenthesized(s);
        if (inner == null) {
            return "with LIMIT";
        }
        if (inner instanceof SetOperationList sol) {
            if (limited(sol.getLimit(), sol.getOffset(), sol.getFetch())) {
                return "with LIMIT";
            }
            return onlyUnionAll(sol) ? null : "with " + sol.getOperations().stream()
                    .map(op -> op.toString().strip().toUpperCase(java.util.Locale.ROOT)).distinct().collect(Collectors.joining("/"));
        }
        if (inner instanceof PlainSelect p) {
            if (limited(p.getLimit(), p.getOffset(), p.getFetch())) {
                return "with LIMIT";
            }
            if (groupingSets(p, sql)) {
                return "with grouping sets";
            }
            if (hasWindows(p, sql)) {
                return "with window functions";
            }
            if (p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null) {
                return "with DISTINCT ON";
            }
        }
        return null;
    }

    /** The SELECT inside any parentheses, or null when a parenthesised level has its own LIMIT, OFFSET or FETCH. */
    private static Select unparenthesized(Select s) {
        Select inner = s;
        while (inner instanceof ParenthesedSelect ps) {
            if (limited(ps.getLimit(), ps.getOffset(), ps.getFetch())) {
                return null;
            }
            inner = ps.getSelect();
        }
        return inner;
    }

    /** Whether the SELECT groups by GROUPING SETS, CUBE, ROLLUP or an empty set (the parser reads some of them as calls). */
    private static boolean groupingSets(PlainSelect p, String sql) {
        GroupByElement groupBy = p.getGroupBy();
        if (groupBy == null) {
            return false;
        }
        if (groupBy.getGroupingSets() != null && !groupBy.getGroupingSets().isEmpty()) {
            return true;
        }
        try {
            return clauses(p, sql).groupBy().stream().anyMatch(k -> k.matches("(?is)(ROLLUP|CUBE|GROUPING\\s+SETS)\\s*\\(.*|\\(\\s*\\)"));
        } catch (Unsupported e) {
            return false; // the aggregate builder says why
        }
    }

    /**
     * A non-linear subquery (see {@link #nonLinearKind}): evaluated as written over either state of
     * its tables. A window or DISTINCT ON subquery whose partition keys are among its outputs is
     * recomputed for the affected partitions only; any other, whole when one of its tables changed.
     */
    private RecomputedSubquery recomputed(Select s, String sql, List<String> names, String kind) throws Unsupported {
        Select inner = unparenthesized(s);
        if (inner == null) {
            throw new Unsupported("LIMIT after a parenthesised subquery in a subquery (a later release)");
        }
        Span span = Spans.of(inner);
        if (span == null) {
            throw new Unsupported("cannot locate the subquery " + kind + " in the query text");
        }
        int end = bodyEnd(sql, span);
        Template body = sublinks.of(sql.substring(span.begin(), end), span.begin(), List.of(inner), sql);
        List<String> columns = outputNames(inner, names);
        String orderDependent = orderDependent(inner, sql, span.begin(), end);
        if (orderDependent != null) {
            // its previous rows are recomputed to be subtracted: they must come out as they were emitted
            throw new Unsupported("a subquery " + kind + " whose rows depend on the order rows are read in (" + orderDependent
                    + "); order by a unique key last to have it maintained");
        }
        if (inner instanceof PlainSelect p && (p.getLimit() == null && p.getOffset() == null && p.getFetch() == null)
                && (hasWindows(p, sql) || p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null)) {
            Window w;
            try {
                w = hasWindows(p, sql) ? window(p, sql, names, end) : distinctOn(p, sql, names, end);
            } catch (Unsupported e) {
                return RecomputedSubquery.whole(body, columns, kind, false); // e.g. no PARTITION BY: every row depends on every other
            }
            if (w.pushedDown()) {
                List<String> keyColumns = new ArrayList<>();
                List<String> keys = new ArrayList<>();
                for (String key : w.partitionings().get(0)) {
                    String normal = key.replaceAll("\\s+", " ").strip();
                    w.items().stream().filter(i -> i.expression().replaceAll("\\s+", " ").strip().equals(normal)).findFirst()
                            .ifPresent(i -> {
                                keyColumns.add(i.name());
                                keys.add(key);
                            });
                }
                if (!keys.isEmpty()) {
                    return new RecomputedSubquery(body, columns, w, keyColumns, keys, kind, false);
                }
            }
        }
        boolean merges = inner instanceof SetOperationList || inner instanceof PlainSelect p && isAggregate(p, sql);
        return RecomputedSubquery.whole(body, columns, kind, merges);
    }

    private static final java.util.Set<String> ROW_ORDER_FUNCTIONS = java.util.Set.of(
            "row_number", "ntile", "lag", "lead", "first_value", "last_value", "nth_value");

    /**
     * Why which rows a subquery yields may depend on the order PostgreSQL reads its input in, or
     * null when it cannot: ORDER BY ... LIMIT, DISTINCT ON, and window functions that tell peers
     * apart (row_number, lag, first_value ..., any ROWS or GROUPS frame) are repeatable only when
     * their ORDER BY (with DISTINCT ON's keys or PARTITION BY) names a unique key of every table
     * they read — its primary key, or every column of it the query uses.
     */
    private String orderDependent(Select inner, String sql, int begin, int end) throws Unsupported {
        String body = sql.substring(begin, end);
        if (inner instanceof SetOperationList sol) {
            if (!limited(sol.getLimit(), sol.getOffset(), sol.getFetch())) {
                return null;
            }
            int orderBy = Clauses.keyword(body, "ORDER BY");
            return orderBy >= 0 && outputNames(inner, null).stream().allMatch(c -> mentions(body.substring(orderBy), null, c))
                    ? null : "LIMIT over a set operation not ordered by all its columns";
        }
        if (!(inner instanceof PlainSelect p)) {
            return null;
        }
        if (limited(p.getLimit(), p.getOffset(), p.getFetch()) || p.getDistinct() != null && p.getDistinct().getOnSelectItems() != null) {
            String what = limited(p.getLimit(), p.getOffset(), p.getFetch()) ? "LIMIT" : "DISTINCT ON";
            int orderBy = Clauses.keyword(body, "ORDER BY");
            if (orderBy < 0) {
                return what + " without ORDER BY";
            }
            int[] on = what.equals("DISTINCT ON") ? Clauses.parenthesizedAfter(body, "SELECT".length(), "DISTINCT ON") : null;
            String ordering = body.substring(orderBy) + (on == null ? "" : " " + body.substring(on[0], on[1]));
            String uncovered = uncovered(p, sql, ordering);
            if (uncovered != null) {
                return what + " with an ORDER BY that can tie (" + uncovered + ")";
            }
        }
        if (hasWindows(p, sql) && !isAggregate(p, sql)) {
            String tail = sql.substring(FromClauses.fromSpan(p, sql).end(), end);
            String clause = WindowText.clause(tail);
            for (SelectItem<?> si : p.getSelectItems()) {
                for (Found w : ExpressionScan.withWindows(si.getExpression(), sql, resolver::isAggregate).windows) {
                    String call = w.text();
                    String function = functionName(call);
                    String spec = call.substring(Math.max(0, Clauses.keyword(call, "OVER"))) + (clause == null ? "" : " " + clause);
                    String flat = spec.replace('(', ' ').replace(')', ' '); // the frame's keywords at depth 0
                    boolean peers = ROW_ORDER_FUNCTIONS.contains(function)
                            || Clauses.keyword(flat, "ROWS") >= 0 || Clauses.keyword(flat, "GROUPS") >= 0;
                    String uncovered = peers ? uncovered(p, sql, spec) : null;
                    if (uncovered != null) {
                        return function + "() over rows that can tie in its ORDER BY (" + uncovered + ")";
                    }
                }
            }
        } else if (hasWindows(p, sql)) {
            return "window functions together with GROUP BY";
        }
        if (isAggregate(p, sql)) {
            for (SelectItem<?> si : p.getSelectItems()) {
                for (Found a : ExpressionScan.of(si.getExpression(), sql, resolver::isAggregate).aggregates) {
                    String function = functionName(a.text());
                    if (!REPEATABLE_AGGREGATES.contains(function) || a.text().toUpperCase(java.util.Locale.ROOT).contains("DISTINCT")) {
                        return "aggregate " + function + "()";
                    }
                }
            }
        }
        return null;
    }

    /** The unqualified, lower-case name of the function a call's text starts with. */
    private static String functionName(String call) {
        String name = call.replaceFirst("(?s)\\s*\\(.*", "").toLowerCase(java.util.Locale.ROOT);
        return name.substring(name.lastIndexOf('.') + 1);
    }

    /** Aggregates whose value does not depend on the order of their input (for types that print equal values alike). */
    private static final java.util.Set<String> REPEATABLE_AGGREGATES = java.util.Set.of(
            "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor");

    /** A table of the SELECT whose unique key {@code ordering} does not name, or null when it names one of each. */
    private String uncovered(PlainSelect p, String sql, String ordering) throws Unsupported {
        for (io.pgtrickle.core.dvm.op.SingleFrom item : fromClauses.fromClause(p, sql).root().items()) {
            if (!(item.item() instanceof Scan scan)) {
                return "FROM item " + item.alias() + " has no key";
            }
            List<String> key = scan.key().isEmpty() ? scan.columns() : scan.key();
            if (!key.stream().allMatch(c -> mentions(ordering, item.alias(), c))) {
                return scan.table() + (scan.key().isEmpty() ? " has no primary key" : " by " + String.join(", ", key));
            }
        }
        return null;
    }

    /** Whether {@code text} names column {@code column} (bare, quoted or as {@code alias.column}). */
    private static boolean mentions(String text, String alias, String column) {
        String c = "(" + Pattern.quote(column) + "|\"" + Pattern.quote(column.replace("\"", "\"\"")) + "\")";
        String a = alias == null ? "" : "((" + Pattern.quote(alias) + "|\"" + Pattern.quote(alias) + "\")\\.)?";
        return Pattern.compile("(?<![\\w.\"])" + a + c + "(?![\\w\"])").matcher(text).find();
    }

    /**
     * Where the text of a subquery that starts at {@code span} ends: at its closing parenthesis (the
     * parser's span stops before a WINDOW clause, which it saw blanked), else at the span's end.
     */
    private static int bodyEnd(String sql, Span span) throws Unsupported {
        int open = span.begin() - 1;
        while (open >= 0 && Character.isWhitespace(sql.charAt(open))) {
            open--;
        }
        if (open >= 0 && sql.charAt(open) == '(') {
            int[] group = Clauses.parenthesizedAfter(sql, open, "");
            if (group != null && group[1] - 1 >= span.end()) {
                return group[1] - 1;
            }
        }
        if (sql.regionMatches(true, Clauses.skipSpace(sql, span.end()), "WINDOW", 0, 6)) {
            throw new Unsupported("a WINDOW clause in a branch of a set operation (a later release)");
        }
        return span.end();
    }

    /** The output names of a subquery: the alias list's, then each item's own (the first branch's for a set operation). */
    static List<String> outputNames(Select body, List<String> aliases) throws Unsupported {
        Select first = body;
        while (first instanceof SetOperationList || first instanceof ParenthesedSelect) {
            first = first instanceof SetOperationList sol ? sol.getSelects().get(0) : ((ParenthesedSelect) first).getSelect();
        }
        if (!(first instanceof PlainSelect p)) {
            throw new Unsupported("cannot name the columns of a subquery");
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < p.getSelectItems().size(); i++) {
            names.add(nameOf(aliases, i, p.getSelectItems().get(i)));
        }
        return names;
    }

    private LinearOperator linear(Select s, String sql, List<String> names) throws Unsupported {
        if (s instanceof ParenthesedSelect ps) {
            checkNoLimit(ps.getLimit(), ps.getOffset(), ps.getFetch());
            return linear(ps.getSelect(), sql, names);
        }
        if (s instanceof SetOperationList sol) {
            checkNoLimit(sol.getLimit(), sol.getOffset(), sol.getFetch());
            for (SetOperation op : sol.getOperations()) {
                if (!(op instanceof UnionOp u && u.isAll())) {
                    throw new Unsupported(op + " below the top of the query (a later release)");
                }
            }
            List<ItemOperator> branches = new ArrayList<>();
            for (Select b : sol.getSelects()) {
                branches.add(item(b, sql, branches.isEmpty() ? names : null));
            }
            return new UnionAll(branches);
        }
        PlainSelect p = (PlainSelect) s;
        checkPlain(p);
        if (p.getDistinct() != null || isAggregate(p, sql)) {
            throw new IllegalStateException("a grouped SELECT reached the linear builder");
        }
        return project(p, sql, names);
    }

    /** UNION, INTERSECT, EXCEPT (with or without ALL) at the top of the query: its branches and operators. */
    private io.pgtrickle.core.dvm.op.SetOperation setOperation(SetOperationList sol, String sql, List<String> names, List<String> types)
            throws Unsupported {
        checkNoLimit(sol.getLimit(), sol.getOffset(), sol.getFetch());
        List<Operator> branches = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Select b : sol.getSelects()) {
            Span span = Spans.of(b);
            if (span == null) {
                throw new Unsupported("cannot locate a branch of " + sol.getOperations().get(0) + " in the query text");
            }
            if (b instanceof ParenthesedSelect ps && ps.getSelect() instanceof SetOperationList nested
                    && !onlyUnionAll(nested)) {
                checkNoLimit(ps.getLimit(), ps.getOffset(), ps.getFetch());
                branches.add(setOperation(nested, sql, names, types));
            } else {
                branches.add(item(b, sql, null));
            }
            texts.add(span.of(sql));
        }
        List<String> operators = new ArrayList<>();
        for (SetOperation op : sol.getOperations()) {
            String text = op.toString().strip().toUpperCase(java.util.Locale.ROOT).replaceAll("\\s+", " ");
            if (!text.matches("(UNION|INTERSECT|EXCEPT)( ALL| DISTINCT)?")) {
                throw new Unsupported("set operation " + text);
            }
            operators.add(text);
        }
        return new io.pgtrickle.core.dvm.op.SetOperation(branches, texts, operators, names, types);
    }

    private static boolean limited(Object limit, Object offset, Object fetch) {
        return limit != null || offset != null || fetch != null;
    }

    /** Whether every operator of the set operation is UNION ALL, which the linear builder maintains. */
    private static boolean onlyUnionAll(SetOperationList sol) {
        return sol.getOperations().stream().allMatch(op -> op instanceof UnionOp u && u.isAll());
    }

    /** LIMIT, OFFSET and FETCH select rows by their order, which a stream table does not keep: TopK. */
    private static void checkNoLimit(Object limit, Object offset, Object fetch) throws Unsupported {
        if (limited(limit, offset, fetch)) {
            throw new Unsupported("LIMIT/OFFSET/FETCH below the top of the query (a later release)");
        }
    }

    private void checkPlain(PlainSelect p) throws Unsupported {
        if (p.getWithItemsList() != null && !p.getWithItemsList().isEmpty()) {
            throw new Unsupported("WITH (common table expressions; a later release)");
        }
        if (p.getFromItem() == null) {
            throw new Unsupported("a SELECT without FROM");
        }
        // ORDER BY alone is ignored: a stream table is a set, like any table (docs/DIFFERENTIAL.md)
        checkNoLimit(p.getLimit(), p.getOffset(), p.getFetch());
    }

    private boolean hasWindows(PlainSelect p, String sql) {
        return p.getSelectItems().stream()
                .anyMatch(si -> !ExpressionScan.withWindows(si.getExpression(), sql, resolver::isAggregate).windows.isEmpty());
    }

    /** {@code SELECT items, f() OVER (...) FROM from [WHERE p] [WINDOW ...]} at the top of the query. */
    private Window window(PlainSelect p, String sql, List<String> names) throws Unsupported {
        return window(p, sql, names, sql.length());
    }

    /** @param end where the SELECT's text ends (a subquery's closing parenthesis) */
    private Window window(PlainSelect p, String sql, List<String> names, int end) throws Unsupported {
        if (p.getDistinct() != null || isAggregate(p, sql)) {
            throw new Unsupported("window functions together with GROUP BY, aggregates or DISTINCT (a later release)");
        }
        checkPlain(p);
        FromClause from = fromClauses.fromClause(p, sql);
        Template where = where(p, sql);
        // to the end of the text: the parser saw the WINDOW clause blanked, so the SELECT's span stops before it
        String tail = sql.substring(FromClauses.fromSpan(p, sql).end(), end);
        java.util.Map<String, String> definitions = WindowText.definitions(tail);
        PlainItems list = plainItems(p, sql, names, true, "a subquery in the select list of a query with window functions (a later release)");
        List<List<String>> partitionings = new ArrayList<>();
        for (Found w : list.windows()) {
            List<String> partition = WindowText.partitionOf(w.text(), definitions);
            if (partition.stream().anyMatch(k -> SublinkTemplates.countSelects(k) > 0)) {
                throw new Unsupported("a subquery in a window's PARTITION BY");
            }
            if (!partitionings.contains(partition)) {
                partitionings.add(partition);
            }
        }
        if (partitionings.stream().anyMatch(List::isEmpty)) {
            throw new Unsupported("a window function without PARTITION BY: every change recomputes every row, which FULL does "
                    + "at lower cost");
        }
        List<String> shared = new ArrayList<>(partitionings.get(0));
        partitionings.forEach(shared::retainAll);
        return new Window(from, FromClauses.fromSpan(p, sql).of(sql), where, list.list(), list.items(),
                shared.isEmpty() ? partitionings : List.of(shared), WindowText.clause(tail), null, null);
    }

    /**
     * {@code SELECT DISTINCT ON (keys) items FROM from [WHERE p] [ORDER BY ...]} at the top of the
     * query: a partition per DISTINCT ON key, its row the first in the ORDER BY.
     */
    private Window distinctOn(PlainSelect p, String sql, List<String> names) throws Unsupported {
        return distinctOn(p, sql, names, sql.length());
    }

    private Window distinctOn(PlainSelect p, String sql, List<String> names, int end) throws Unsupported {
        checkPlain(p);
        Span whole = Spans.of(p);
        int[] on = whole == null ? null : Clauses.parenthesizedAfter(sql, whole.begin() + "SELECT".length(), "DISTINCT ON");
        if (on == null) {
            throw new Unsupported("cannot locate DISTINCT ON in the query text");
        }
        List<String> keys = Clauses.splitTopLevel(sql.substring(on[0] + 1, on[1] - 1));
        if (keys.stream().anyMatch(k -> SublinkTemplates.countSelects(k) > 0)) {
            throw new Unsupported("a subquery in DISTINCT ON");
        }
        FromClause from = fromClauses.fromClause(p, sql);
        Template where = where(p, sql);
        PlainItems list = plainItems(p, sql, names, false, "a subquery in the select list of SELECT DISTINCT ON (a later release)");
        String tail = sql.substring(FromClauses.fromSpan(p, sql).end(), end);
        int orderBy = Clauses.keyword(tail, "ORDER BY");
        if (orderBy < 0) {
            throw new Unsupported("DISTINCT ON without ORDER BY: which row of a group is kept depends on the order rows are read in");
        }
        return new Window(from, FromClauses.fromSpan(p, sql).of(sql), where, list.list(), list.items(), List.of(keys),
                null, "DISTINCT ON " + sql.substring(on[0], on[1]),
                orderBy < 0 ? null : tail.substring(orderBy).strip());
    }

    /** A select list without subqueries: its items, its text ({@code expression AS "name", ...}) and its window calls. */
    private record PlainItems(List<Project.Item> items, Template list, List<Found> windows) {
    }

    /** @param refusal why a subquery in the list is refused */
    private PlainItems plainItems(PlainSelect p, String sql, List<String> names, boolean windows, String refusal)
            throws Unsupported {
        List<Project.Item> items = new ArrayList<>();
        List<Template> list = new ArrayList<>();
        List<Found> calls = new ArrayList<>();
        int i = 0;
        for (SelectItem<?> si : p.getSelectItems()) {
            ExpressionScan scan = windows ? ExpressionScan.withWindows(si.getExpression(), sql, resolver::isAggregate)
                    : ExpressionScan.of(si.getExpression(), sql, resolver::isAggregate);
            if (scan.unsupported != null) {
                throw new Unsupported(scan.unsupported);
            }
            if (!scan.sublinks.isEmpty()) {
                throw new Unsupported(refusal);
            }
            calls.addAll(scan.windows);
            String text = itemText(si, sql);
            String name = nameOf(names, i, si);
            items.add(new Project.Item(text, name));
            list.add(Template.plain(text + " AS " + quote(name)));
            i++;
        }
        return new PlainItems(items, Template.join(list, ", "), calls);
    }

    /** {@code SELECT items FROM from [WHERE p]} as one Project over its FROM clause. */
    private LinearOperator project(PlainSelect p, String sql, List<String> names) throws Unsupported {
        FromClause from = ChangeFilters.apply(fromClauses.fromClause(p, sql), p.getWhere(), sql);
        Template where = where(p, sql);
        List<Project.Item> items = new ArrayList<>();
        List<Template> list = new ArrayList<>();
        int i = 0;
        for (SelectItem<?> si : p.getSelectItems()) {
            ExpressionScan scan = ExpressionScan.of(si.getExpression(), sql, resolver::isAggregate);
            if (scan.unsupported != null) {
                throw new Unsupported(scan.unsupported);
            }
            String text = itemText(si, sql);
            String name = nameOf(names, i, si);
            items.add(new Project.Item(text, name));
            Template t = sublinks.of(text, Spans.of(si).begin(), scan.sublinks, sql);
            list.add(new Template(t.text() + " AS " + quote(name), t.sublinks()));
            i++;
        }
        List<String> uniqueKey = UniqueRows.keyItems(p, from, sql).stream().map(k -> items.get(k).name()).toList();
        return new Project(from, where, Template.join(list, ", "), items, uniqueKey);
    }

    /** @param item below the top of the query: its previous state is grouped over derived tables, see below */
    private Aggregate aggregate(PlainSelect p, String sql, List<String> names, boolean item) throws Unsupported {
        FromClause from = ChangeFilters.apply(fromClauses.fromClause(p, sql), p.getWhere(), sql);
        String alias = "__pgt_f";
        Template where = where(p, sql);
        Span fromSpan = FromClauses.fromSpan(p, sql);
        List<String> keys = new ArrayList<>();
        GroupByElement groupBy = p.getGroupBy();
        if (groupBy != null) {
            if (groupingSets(p, sql)) { // a form GroupingSets.expand leaves alone, e.g. GROUP BY DISTINCT ROLLUP (...)
                throw new Unsupported("GROUPING SETS, CUBE or ROLLUP in this form (a later release)");
            }
            keys.addAll(clauses(p, sql).groupBy());
            if (keys.stream().anyMatch(k -> SublinkTemplates.countSelects(k) > 0)) {
                throw new Unsupported("a subquery in GROUP BY");
            }
            if (keys.size() != groupBy.getGroupByExpressionList().size()) {
                throw new Unsupported("cannot split the GROUP BY clause of the query text");
            }
        }
        List<Project.Item> written = new ArrayList<>();
        List<Template> list = new ArrayList<>();
        int i = 0;
        for (SelectItem<?> si : p.getSelectItems()) {
            String text = itemText(si, sql);
            String name = nameOf(names, i, si);
            written.add(new Project.Item(text, name));
            list.add(named(sublinkTemplate(si.getExpression(), text, Spans.of(si).begin(), sql), name));
            i++;
        }
        Template having = null;
        Span havingSpan = null;
        if (p.getHaving() != null) {
            havingSpan = Spans.of(p.getHaving());
            String writtenHaving = clauses(p, sql).having();
            if (havingSpan == null || !havingSpan.of(sql).strip().equals(writtenHaving)) {
                throw new Unsupported("cannot locate HAVING in the query text");
            }
            having = sublinkTemplate(p.getHaving(), writtenHaving, havingSpan.begin(), sql);
        }
        Aggregate.Written w = new Aggregate.Written(written, Template.join(list, ", "), having);
        List<String> calls = new ArrayList<>();
        List<Project.Item> outputs = null;
        String replacedHaving = null;
        if (!w.subqueries()) {
            // The aggregate calls and the select list over them, for maintenance from hidden columns.
            outputs = new ArrayList<>();
            i = 0;
            for (SelectItem<?> si : p.getSelectItems()) {
                String replaced = replaceGroupTerms(si.getExpression(), written.get(i).expression(), Spans.of(si).begin(), sql,
                        alias, keys, calls);
                outputs.add(new Project.Item(replaced, written.get(i).name()));
                i++;
            }
            if (having != null) {
                replacedHaving = replaceGroupTerms(p.getHaving(), having.text(), havingSpan.begin(), sql, alias, keys, calls);
            }
        } else {
            i = 0;
            for (SelectItem<?> si : p.getSelectItems()) {
                ExpressionScan.of(si.getExpression(), sql, resolver::isAggregate).aggregates.forEach(a -> calls.add(a.text()));
                if (item) {
                    // Over derived tables PostgreSQL no longer knows a primary key's dependent
                    // columns: every column outside an aggregate must be a GROUP BY expression.
                    replaceGroupTerms(si.getExpression(), written.get(i).expression(), Spans.of(si).begin(), sql, alias, keys,
                            new ArrayList<>());
                }
                i++;
            }
        }
        return new Aggregate(from, fromSpan.of(sql), where, keys, calls, outputs, replacedHaving, w);
    }

    /** {@code SELECT DISTINCT list FROM ...} below the top: groups of the whole select list, no aggregate. */
    private Aggregate distinctGroups(PlainSelect p, String sql, List<String> names) throws Unsupported {
        FromClause from = fromClauses.fromClause(p, sql);
        Template where = where(p, sql);
        List<String> keys = new ArrayList<>();
        List<Project.Item> written = new ArrayList<>();
        List<Project.Item> outputs = new ArrayList<>();
        List<Template> list = new ArrayList<>();
        int i = 0;
        for (SelectItem<?> si : p.getSelectItems()) {
            String text = itemText(si, sql);
            String name = nameOf(names, i, si);
            Template t = sublinkTemplate(si.getExpression(), text, Spans.of(si).begin(), sql);
            if (!t.sublinks().isEmpty()) {
                throw new Unsupported("a subquery in the select list of SELECT DISTINCT below the top of the query");
            }
            // a bare number in GROUP BY would be a position: group by it as an expression
            keys.add(text.strip().matches("-?\\d+(\\.\\d+)?") ? Aggregate.constantKey(text.strip()) : text);
            written.add(new Project.Item(text, name));
            outputs.add(new Project.Item(quote("__pgt_f") + ".__pgt_g" + i, name));
            list.add(named(t, name));
            i++;
        }
        return new Aggregate(from, FromClauses.fromSpan(p, sql).of(sql), where, keys, List.of(), outputs, null,
                new Aggregate.Written(written, Template.join(list, ", "), null));
    }

    /** An expression of the query as a template: its subqueries' tables as slots. */
    private Template sublinkTemplate(Expression e, String text, int offset, String sql) throws Unsupported {
        ExpressionScan scan = ExpressionScan.of(e, sql, resolver::isAggregate);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        return sublinks.of(text, offset, scan.sublinks, sql);
    }

    private static Template named(Template t, String name) {
        return new Template(t.text() + " AS " + quote(name), t.sublinks());
    }

    /** The name of output {@code i}: the alias list's, else the item's own. */
    private static String nameOf(List<String> names, int i, SelectItem<?> si) throws Unsupported {
        return names != null && i < names.size() ? names.get(i) : itemName(si);
    }

    /**
     * Rewrites an expression over a group so that it reads a row of recomputed group values:
     * aggregate calls become {@code alias.__pgt_a<i>}, grouped expressions {@code alias.__pgt_g<j>}.
     */
    private String replaceGroupTerms(Expression e, String text, int offset, String sql, String alias,
                                     List<String> keys, List<String> calls) throws Unsupported {
        int wholeKey = keyIndex(keys, text);
        if (wholeKey >= 0) {
            return quote(alias) + ".__pgt_g" + wholeKey;
        }
        ExpressionScan scan = ExpressionScan.of(e, sql, resolver::isAggregate);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        List<Replacement> replacements = new ArrayList<>();
        for (Found agg : scan.aggregates) {
            int index = calls.indexOf(agg.text());
            if (index < 0) {
                calls.add(agg.text());
                index = calls.size() - 1;
            }
            replacements.add(new Replacement(agg.span(), quote(alias) + ".__pgt_a" + index));
        }
        List<Span> aggregateSpans = scan.aggregates.stream().map(Found::span).toList();
        List<Replacement> keyTerms = keyTerms(text, offset, keys, aggregateSpans, alias);
        replacements.addAll(keyTerms);
        for (Found col : scan.columns) {
            boolean insideAggregate = scan.aggregates.stream()
                    .anyMatch(a -> a.span().begin() <= col.span().begin() && col.span().end() <= a.span().end());
            boolean insideKey = keyTerms.stream()
                    .anyMatch(k -> k.span().begin() <= col.span().begin() && col.span().end() <= k.span().end());
            if (insideAggregate || insideKey) {
                continue;
            }
            int key = keyIndex(keys, col.text());
            if (key < 0) {
                throw new Unsupported("column " + col.text() + " is used outside an aggregate but is not a GROUP BY expression");
            }
            replacements.add(new Replacement(col.span(), quote(alias) + ".__pgt_g" + key));
        }
        return Spans.replace(text, offset, replacements);
    }

    /**
     * The GROUP BY expressions that are terms of {@code text} outside aggregate calls ({@code a + 1}
     * in {@code (a + 1) * 2} under {@code GROUP BY a + 1}), longest first, as group-value reads.
     */
    private static List<Replacement> keyTerms(String text, int offset, List<String> keys, List<Span> aggregates, String alias) {
        List<Integer> order = IntStream.range(0, keys.size()).boxed()
                .sorted(Comparator.comparingInt((Integer k) -> -GroupingSets.bare(keys.get(k)).length())).toList();
        List<Replacement> out = new ArrayList<>();
        for (int k : order) {
            String key = GroupingSets.bare(keys.get(k));
            if (key.matches("[\\w.\"]+")) {
                continue; // a column: matched as a column, where the parser found one
            }
            for (int at = text.indexOf(key); at >= 0; at = text.indexOf(key, at + 1)) {
                Span span = new Span(offset + at, offset + at + key.length());
                boolean free = !QueryText.insideLiteral(text, at) && termBoundary(text, at - 1) && termBoundary(text, at + key.length())
                        && (selfDelimited(key) || delimited(text, at, at + key.length()))
                        && aggregates.stream().noneMatch(a -> a.begin() < span.end() && span.begin() < a.end())
                        && out.stream().noneMatch(r -> r.span().begin() < span.end() && span.begin() < r.span().end());
                if (free) {
                    out.add(new Replacement(span, quote(alias) + ".__pgt_g" + k));
                }
            }
        }
        return out;
    }

    /** A call or CASE ... END is one operand wherever it stands; {@code a + 1} is not in {@code a + 1 * 2}. */
    private static boolean selfDelimited(String key) {
        if (key.matches("(?is)CASE\\b.*\\bEND")) {
            return Clauses.keyword(key.substring(4), "CASE") < 0; // one CASE, not CASE ... END + CASE ... END
        }
        int open = key.indexOf('(');
        if (open <= 0 || !key.substring(0, open).strip().matches("[\\w.\"]+")) {
            return false;
        }
        int[] args = Clauses.parenthesizedAfter(key, open, "");
        return args != null && args[0] == open && args[1] == key.length();
    }

    /** Whether text[begin, end) stands between delimiters that end an expression: ( or , before, ) or , after. */
    private static boolean delimited(String text, int begin, int end) {
        int before = begin - 1;
        while (before >= 0 && Character.isWhitespace(text.charAt(before))) {
            before--;
        }
        int after = end;
        while (after < text.length() && Character.isWhitespace(text.charAt(after))) {
            after++;
        }
        return before >= 0 && after < text.length() && "(,".indexOf(text.charAt(before)) >= 0 && "),".indexOf(text.charAt(after)) >= 0;
    }

    private static boolean termBoundary(String s, int i) {
        return i < 0 || i >= s.length() || !(Character.isLetterOrDigit(s.charAt(i)) || "_.\"$".indexOf(s.charAt(i)) >= 0);
    }

    /** The GROUP BY expression {@code text} is, or -1; {@code (a > 3)} and {@code a > 3} are one expression. */
    private static int keyIndex(List<String> keys, String text) {
        String bare = GroupingSets.bare(text);
        for (int k = 0; k < keys.size(); k++) {
            if (GroupingSets.bare(keys.get(k)).equals(bare)) {
                return k;
            }
        }
        return -1;
    }

    private boolean isAggregate(PlainSelect p, String sql) {
        if (p.getGroupBy() != null || p.getHaving() != null) {
            return true;
        }
        for (SelectItem<?> si : p.getSelectItems()) {
            if (!ExpressionScan.of(si.getExpression(), sql, resolver::isAggregate).aggregates.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** The WHERE condition, its subqueries' tables as slots; null when there is none. */
    private Template where(PlainSelect p, String sql) throws Unsupported {
        if (p.getWhere() == null) {
            return null;
        }
        ExpressionScan scan = ExpressionScan.of(p.getWhere(), sql, name -> false);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        String text = clauses(p, sql).where();
        int offset = sql.indexOf(text, FromClauses.fromSpan(p, sql).end());
        if (offset < 0) {
            throw new Unsupported("cannot locate WHERE in the query text");
        }
        return sublinks.of(text, offset, scan.sublinks, sql, p.getWhere());
    }

    /** WHERE, GROUP BY and HAVING as PostgreSQL printed them, cut from the text after the FROM item. */
    private static Clauses clauses(PlainSelect p, String sql) throws Unsupported {
        Span from = FromClauses.fromSpan(p, sql);
        Span whole = Spans.of(p);
        if (whole == null) {
            throw new Unsupported("cannot locate the clauses of a SELECT in the query text");
        }
        return Clauses.of(sql.substring(from.end(), whole.end()));
    }

    /** The select item's expression text: its span without the trailing "AS alias". */
    private static String itemText(SelectItem<?> si, String sql) throws Unsupported {
        Span span = Spans.of(si);
        if (span == null) {
            throw new Unsupported("cannot locate a select item in the query text");
        }
        String text = span.of(sql);
        if (si.getAlias() != null) {
            text = text.replaceFirst("(?s)\\s+AS\\s+" + Pattern.quote(si.getAlias().getName()) + "\\s*$", "");
        }
        return text;
    }

    private static String itemName(SelectItem<?> si) throws Unsupported {
        if (si.getAlias() != null) {
            return unquote(si.getAlias().getName());
        }
        if (si.getExpression() instanceof Column c) {
            return unquote(c.getColumnName());
        }
        throw new Unsupported("an unnamed expression in a subquery");
    }

    /** An identifier as PostgreSQL prints it, double-quoted or bare, without its quotes. */
    public static String unquote(String ident) {
        if (ident.length() >= 2 && ident.startsWith("\"") && ident.endsWith("\"")) {
            return ident.substring(1, ident.length() - 1).replace("\"\"", "\"");
        }
        return ident;
    }

    private static String quote(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }
}
