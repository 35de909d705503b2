package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.ExpressionScan.Found;
import io.pgtrickle.core.dvm.build.Spans.Span;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Predicate;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.PlainSelect;
import net.sf.jsqlparser.statement.select.SelectItem;

/**
 * GROUPING SETS, ROLLUP and CUBE at the top of the query, rewritten as the UNION ALL of one GROUP BY
 * per grouping set, which the engine maintains branch by branch. In the branch of set S, a grouping
 * expression outside S reads NULL (outside aggregate calls), and {@code GROUPING(a, b, ...)} is the
 * constant bit mask PostgreSQL defines (a bit set for each argument not in S, the first argument the
 * most significant).
 *
 * <p>A grouping expression is matched whole, the longest first: under {@code GROUPING SETS ((a + 1), (a))}
 * the select item {@code a + 1} is the first key (NULL in the second set), not {@code a} plus one.
 *
 * <p>{@code GROUP BY a, ROLLUP(b, c)} is the cross product of its elements' sets: (a, b, c), (a, b),
 * (a). Equal sets stay repeated, as PostgreSQL repeats their rows.
 */
final class GroupingSets {
    private static final int MAX_SETS = 64;

    /** The statement parser; it throws when JSqlParser does not understand the text. */
    interface Parser {
        PlainSelect parse(String sql) throws Unsupported;
    }

    private GroupingSets() {
    }

    /**
     * The query rewritten as a UNION ALL of GROUP BYs, or null when its top-level SELECT has no
     * grouping sets.
     *
     * @param names the query's output column names
     * @param types their types, or null: an output that is a key outside a set is a NULL of that type
     *              (an untyped NULL would be text in a branch read on its own)
     */
    static String expand(String sql, List<String> names, List<String> types, Parser parser, Predicate<String> isAggregate)
            throws Unsupported {
        // Left to the rest of the builder (TopK, or FULL with the reason): a set operation, and the
        // clauses that act on the whole result, which a UNION ALL of its sets would not keep.
        for (String whole : new String[] {"UNION", "INTERSECT", "EXCEPT", "LIMIT", "OFFSET", "FETCH"}) {
            if (Clauses.keyword(sql, whole) >= 0) {
                return null;
            }
        }
        if (sql.stripLeading().matches("(?is)^SELECT\\s+DISTINCT\\b.*")) {
            return null;
        }
        int groupBy = Clauses.keyword(sql, "GROUP BY");
        if (groupBy < 0) {
            return null;
        }
        int end = sql.length();
        for (String next : new String[] {"HAVING", "WINDOW", "ORDER BY", "LIMIT", "OFFSET", "FETCH"}) {
            int at = Clauses.keyword(sql.substring(groupBy), next);
            if (at > 0) {
                end = Math.min(end, groupBy + at);
            }
        }
        String list = sql.substring(groupBy + "GROUP BY".length(), end).strip();
        if (list.matches("(?is)^(DISTINCT|ALL)\\b.*")) {
            return null; // GROUP BY DISTINCT drops repeated sets: not this rewrite's
        }
        List<String> elements = Clauses.splitTopLevel(list);
        if (elements.stream().noneMatch(GroupingSets::isGroupingElement)) {
            return null;
        }
        List<List<String>> sets = List.of(List.of());
        for (String element : elements) {
            sets = cross(sets, setsOf(element));
            if (sets.size() > MAX_SETS) {
                throw new Unsupported("more than " + MAX_SETS + " grouping sets");
            }
        }
        Set<String> keys = new LinkedHashSet<>();
        sets.forEach(keys::addAll);
        // The same SELECT with a plain GROUP BY of every key, for the parser and the positions.
        String plain = sql.substring(0, groupBy) + (keys.isEmpty() ? "" : "GROUP BY " + String.join(", ", keys) + " ")
                + sql.substring(end);
        PlainSelect p = parser.parse(plain);
        List<String> branches = new ArrayList<>();
        for (List<String> set : sets) {
            branches.add(branch(plain, p, names, types, keys, set, isAggregate));
        }
        return String.join(" UNION ALL ", branches);
    }

    private static boolean isGroupingElement(String element) {
        String u = element.toUpperCase(Locale.ROOT);
        return u.startsWith("ROLLUP") || u.startsWith("CUBE") || u.startsWith("GROUPING SETS") || u.equals("()");
    }

    /** The grouping sets one element of GROUP BY stands for. */
    private static List<List<String>> setsOf(String element) throws Unsupported {
        String u = element.toUpperCase(Locale.ROOT);
        if (u.startsWith("ROLLUP") || u.startsWith("CUBE")) {
            List<List<String>> units = new ArrayList<>();
            for (String unit : Clauses.splitTopLevel(inner(element))) {
                units.add(unit(unit));
            }
            List<List<String>> out = new ArrayList<>();
            if (u.startsWith("ROLLUP")) {
                for (int n = units.size(); n >= 0; n--) {
                    out.add(units.subList(0, n).stream().flatMap(List::stream).toList());
                }
            } else {
                for (int mask = (1 << units.size()) - 1; mask >= 0; mask--) {
                    List<String> set = new ArrayList<>();
                    for (int i = 0; i < units.size(); i++) {
                        if ((mask & (1 << (units.size() - 1 - i))) != 0) {
                            set.addAll(units.get(i));
                        }
                    }
                    out.add(set);
                }
            }
            return out;
        }
        if (u.startsWith("GROUPING SETS")) {
            List<List<String>> out = new ArrayList<>();
            for (String e : Clauses.splitTopLevel(inner(element))) {
                out.addAll(isGroupingElement(e) && !e.equals("()") || !e.startsWith("(") ? setsOf(e) : List.of(unit(e)));
            }
            return out;
        }
        if (element.equals("()")) {
            return List.of(List.of());
        }
        return List.of(List.of(bare(element)));
    }

    /** {@code (a, b)} as [a, b]; {@code ()} as []; an expression as [it]. */
    private static List<String> unit(String text) {
        String t = text.strip();
        if (t.equals("()")) {
            return List.of();
        }
        if (t.startsWith("(") && enclosed(t)) {
            List<String> parts = Clauses.splitTopLevel(t.substring(1, t.length() - 1));
            if (parts.size() > 1) {
                return parts.stream().map(GroupingSets::bare).toList();
            }
        }
        return List.of(bare(t));
    }

    /** The text inside {@code NAME(...)}. */
    private static String inner(String call) throws Unsupported {
        int open = call.indexOf('(');
        if (open < 0 || !call.endsWith(")")) {
            throw new Unsupported("cannot read the grouping element " + call);
        }
        return call.substring(open + 1, call.length() - 1);
    }

    /** An expression without the parentheses that only enclose it whole. */
    static String bare(String e) {
        String t = e.strip();
        while (t.startsWith("(") && enclosed(t)) {
            t = t.substring(1, t.length() - 1).strip();
        }
        return t;
    }

    /** Whether the first parenthesis of {@code t} closes at its end. */
    private static boolean enclosed(String t) {
        int[] span = Clauses.parenthesizedAfter(t, 0, "");
        return span != null && span[0] == 0 && span[1] == t.length();
    }

    private static List<List<String>> cross(List<List<String>> left, List<List<String>> right) {
        List<List<String>> out = new ArrayList<>();
        for (List<String> l : left) {
            for (List<String> r : right) {
                List<String> set = new ArrayList<>(l);
                r.stream().filter(x -> !set.contains(x)).forEach(set::add);
                out.add(set);
            }
        }
        return out;
    }

    /** One GROUP BY of the UNION ALL: the select list and HAVING of {@code plain} with the keys outside {@code set} as NULL. */
    private static String branch(String plain, PlainSelect p, List<String> names, List<String> types, Set<String> keys,
                                 List<String> set, Predicate<String> isAggregate) throws Unsupported {
        Set<String> outerNames = fromNames(p);
        List<String> items = new ArrayList<>();
        int i = 0;
        for (SelectItem<?> si : p.getSelectItems()) {
            Span span = Spans.of(si);
            if (span == null) {
                throw new Unsupported("cannot locate a select item in the query text");
            }
            String written = span.of(plain);
            if (si.getAlias() != null) { // the alias is no expression: a key's name in it stays
                written = written.replaceFirst("(?s)\\s+AS\\s+" + java.util.regex.Pattern.quote(si.getAlias().getName()) + "\\s*$", "");
            }
            String text = rewrite(si.getExpression(), plain, new Span(span.begin(), span.begin() + written.length()), keys, set,
                    outerNames, isAggregate);
            if (types != null && bare(text).equals("NULL")) {
                text = "NULL::" + types.get(i);
            }
            items.add(text + " AS " + '"' + names.get(i).replace("\"", "\"\"") + '"');
            i++;
        }
        Span from = FromClauses.fromSpan(p, plain);
        Clauses clauses = Clauses.of(plain.substring(from.end(), Spans.of(p).end()));
        String having = null;
        if (p.getHaving() != null) {
            Span h = Spans.of(p.getHaving());
            if (h == null || !h.of(plain).strip().equals(clauses.having())) {
                throw new Unsupported("cannot locate HAVING in the query text");
            }
            having = rewrite(p.getHaving(), plain, h, keys, set, outerNames, isAggregate);
        }
        return "SELECT " + String.join(", ", items) + " FROM " + from.of(plain)
                + (clauses.where() == null ? "" : " WHERE " + clauses.where())
                + (set.isEmpty() ? "" : " GROUP BY " + set.stream().map(GroupingSets::asWritten).collect(java.util.stream.Collectors.joining(", ")))
                + (having == null ? "" : " HAVING " + having);
    }

    /** The names the FROM items of the top-level SELECT go by: their aliases, else the tables' names. */
    private static Set<String> fromNames(PlainSelect p) {
        Set<String> out = new java.util.HashSet<>();
        for (FromItems.Item it : FromItems.of(p.getFromItem(), p.getJoins())) {
            FromItem f = it.item();
            if (!it.visible()) {
                continue;
            }
            if (f.getAlias() != null) {
                out.add(lastName(f.getAlias().getName()));
            } else if (f instanceof Table t) {
                out.add(lastName(t.getName()));
            }
        }
        return out;
    }

    /** The expression's text with GROUPING(...) as its constant and the keys outside {@code set} as NULL, outside aggregates. */
    private static String rewrite(Expression e, String plain, Span span, Set<String> keys, List<String> set,
                                  Set<String> outerNames, Predicate<String> isAggregate) throws Unsupported {
        ExpressionScan scan = ExpressionScan.of(e, plain, isAggregate);
        if (scan.unsupported != null) {
            throw new Unsupported(scan.unsupported);
        }
        List<Span> protectedSpans = scan.aggregates.stream().map(Found::span).toList();
        List<Span> subqueries = new ArrayList<>();
        for (var s : scan.sublinks) {
            Span sub = Spans.of(s);
            if (sub == null) {
                throw new Unsupported("cannot locate a subquery in the query text");
            }
            subqueries.add(sub);
        }
        String text = span.of(plain);
        StringBuilder out = new StringBuilder();
        String upper = text.toUpperCase(Locale.ROOT);
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            int at = span.begin() + i;
            boolean inAggregate = protectedSpans.stream().anyMatch(s -> s.begin() <= at && at < s.end());
            if ((c == '"' || c == '\'') && !inAggregate && keyAt(text, i, keys) != null) {
                // a key that starts quoted ("Region", '-1.0'::numeric < amount): replaced below like any other
            } else if (c == '\'' || c == '"') {
                int close = Clauses.skipQuoted(text, i, c);
                out.append(text, i, Math.min(close + 1, text.length()));
                i = close + 1;
                continue;
            }
            if (!inAggregate && upper.startsWith("GROUPING", i) && boundary(text, i - 1)) {
                int[] args = Clauses.parenthesizedAfter(text, i + "GROUPING".length(), "");
                if (args != null) {
                    int mask = 0;
                    for (String arg : Clauses.splitTopLevel(text.substring(args[0] + 1, args[1] - 1))) {
                        String k = bare(arg);
                        if (!keys.contains(k)) {
                            throw new Unsupported("GROUPING(" + arg + ") of an expression that is not grouped");
                        }
                        mask = (mask << 1) | (set.contains(k) ? 0 : 1);
                    }
                    out.append(mask);
                    i = args[1];
                    continue;
                }
            }
            String key = inAggregate ? null : keyAt(text, i, keys);
            int length = key == null ? 0 : key.length();
            String other = inAggregate || key != null || !boundary(text, i - 1) ? null : columnNamed(text, i);
            String sameColumn = other == null ? null : keyOfColumn(other, keys);
            if (sameColumn != null && subqueries.stream().anyMatch(s -> s.begin() <= at && at < s.end())) {
                // inside a subquery the name may be the subquery's own column: it is the key only when
                // qualified by the outer query's FROM (PostgreSQL's canonical text always qualifies there)
                int dot = other.lastIndexOf('.');
                if (dot < 0) {
                    throw new Unsupported("a subquery reads the grouping column " + sameColumn + " as " + other
                            + " (write it as in GROUP BY)");
                }
                if (!outerNames.contains(lastName(other.substring(0, dot)))) {
                    sameColumn = null;
                }
            }
            if (sameColumn != null) {
                // o.customer for the key customer (or the reverse): one column, which the branch reads as the key
                key = sameColumn;
                length = other.length();
            }
            if (key != null && !set.contains(key)) {
                out.append("NULL");
                i += length;
                continue;
            }
            if (key != null) {
                out.append(text, i, i + length);
                i += length;
                continue;
            }
            out.append(c);
            i++;
        }
        return out.toString();
    }

    /**
     * A key as the select list has it: PostgreSQL prints an expression parenthesised there
     * ({@code (t.amount > 3) AS big}), a column bare; the group keys must match it text for text.
     */
    private static String asWritten(String key) {
        return key.matches("[\\w.\"]+") ? key : "(" + key + ")";
    }

    private static final java.util.regex.Pattern COLUMN = io.pgtrickle.core.sql.Sql.COLUMN_REFERENCE;

    /** The (possibly qualified) column name that starts at {@code i}, or null; a function's name is none. */
    private static String columnNamed(String text, int i) {
        var m = COLUMN.matcher(text).region(i, text.length());
        if (!m.lookingAt() || !boundary(text, m.end())) {
            return null;
        }
        int next = m.end();
        while (next < text.length() && Character.isWhitespace(text.charAt(next))) {
            next++;
        }
        return next < text.length() && text.charAt(next) == '(' ? null : m.group();
    }

    /** The column key {@code column} names by another qualification ({@code o.x} for {@code x}), or null. */
    private static String keyOfColumn(String column, Set<String> keys) {
        String name = lastName(column);
        for (String k : keys) {
            if (!k.equals(column) && COLUMN.matcher(k).matches() && lastName(k).equals(name)
                    && (k.indexOf('.') < 0 || column.indexOf('.') < 0)) {
                return k;
            }
        }
        return null;
    }

    private static String lastName(String column) {
        String name = column.substring(column.lastIndexOf('.') + 1);
        return name.startsWith("\"") ? name : name.toLowerCase(Locale.ROOT);
    }

    /** The longest key that starts at {@code i} as a whole term, or null. */
    private static String keyAt(String text, int i, Set<String> keys) {
        String best = null;
        for (String k : keys) {
            if (text.startsWith(k, i) && boundary(text, i - 1) && boundary(text, i + k.length())
                    && (best == null || k.length() > best.length())) {
                best = k;
            }
        }
        return best;
    }

    private static boolean boundary(String s, int i) {
        return i < 0 || i >= s.length() || !(Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '.'
                || s.charAt(i) == '"');
    }
}
