package io.pgtrickle.core.dvm.build;

import java.util.Locale;
import net.sf.jsqlparser.JSQLParserException;
import net.sf.jsqlparser.expression.Function;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.Select;

/**
 * JSqlParser 5.3 cannot read a scalar subquery followed by an operator, as PostgreSQL prints
 * {@code ((SELECT ...) * 2)}, {@code ( SELECT ...)::text} or {@code (( SELECT ...))::numeric + 1}. Such a subquery is parsed in two steps:
 * in the query, it is replaced by a call {@code __pgt_sublink(0)} padded to the same length (so
 * every position in the text stays valid), and the subquery itself is parsed on its own, shifted
 * to its position, when the expression walkers meet the call. The third of {@link QueryParser}'s
 * rewrites, tried when the query does not parse without it.
 */
final class MaskedSublinks {
    static final String NAME = "__pgt_sublink";

    private MaskedSublinks() {
    }

    /** The text with every subquery that is followed by an operator masked; null when there is none. */
    static String mask(String sql) {
        StringBuilder b = new StringBuilder(sql);
        boolean masked = false;
        String upper = sql.toUpperCase(Locale.ROOT);
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                i = Clauses.skipQuoted(sql, i, c);
                continue;
            }
            if (c != '(') {
                continue;
            }
            int j = Clauses.skipSpace(sql, i + 1);
            int innermost = i;
            while (j < sql.length() && sql.charAt(j) == '(') { // (( SELECT ...))::numeric, as PostgreSQL prints a cast subquery
                innermost = j;
                j = Clauses.skipSpace(sql, j + 1);
            }
            if (!upper.startsWith("SELECT", j)) {
                continue;
            }
            int close = matching(sql, innermost);
            if (close < 0) {
                return null;
            }
            // the parentheses around the subquery must enclose nothing else: ((SELECT ...) - 1) is no subquery
            for (int open = innermost; open > i && close >= 0; open = previousOpen(sql, open)) {
                int next = Clauses.skipSpace(sql, close + 1);
                close = next < sql.length() && sql.charAt(next) == ')' ? next : -1;
            }
            if (close < 0) {
                continue;
            }
            int next = Clauses.skipSpace(sql, close + 1);
            int length = close + 1 - i;
            String call = NAME + "(0)";
            if (next < sql.length() && followedByOperator(sql, upper, next) && length >= call.length()) {
                b.replace(i, close + 1, NAME + "(0" + " ".repeat(length - call.length()) + ")");
                masked = true;
                i = close;
            }
        }
        return masked ? b.toString() : null;
    }

    /** The subquery a masking call stands for, parsed at its position in {@code sql}; null for other functions. */
    static Select unmask(Function f, String sql) {
        if (!NAME.equals(f.getName())) {
            return null;
        }
        Spans.Span span = Spans.of(f);
        if (span == null) {
            throw new IllegalStateException("a masked subquery without position");
        }
        String inner = " ".repeat(span.begin() + 1) + sql.substring(span.begin() + 1, span.end() - 1);
        try {
            Statement st = QueryParser.parseUnmasked(inner);
            return (Select) st;
        } catch (JSQLParserException | ClassCastException e) {
            throw new IllegalStateException("cannot parse a subquery on its own: " + e.getMessage(), e);
        }
    }

    private static boolean followedByOperator(String sql, String upper, int at) {
        char c = sql.charAt(at);
        return "*/+-%<>=!|^&~:#@".indexOf(c) >= 0 || upper.startsWith("IS ", at);
    }

    /** The opening parenthesis before {@code open}, across spaces only. */
    private static int previousOpen(String s, int open) {
        int k = open - 1;
        while (k >= 0 && Character.isWhitespace(s.charAt(k))) {
            k--;
        }
        return k;
    }

    private static int matching(String s, int open) {
        int depth = 0;
        for (int i = open; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = Clauses.skipQuoted(s, i, c);
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        return -1;
    }
}
