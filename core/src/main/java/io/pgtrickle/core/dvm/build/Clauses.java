package io.pgtrickle.core.dvm.build;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The WHERE, GROUP BY and HAVING clauses of one SELECT, cut out of the text that follows its FROM
 * item (up to WINDOW, ORDER BY, LIMIT, OFFSET or FETCH). The parser does not keep positions for every expression kind (a parenthesised expression
 * has none), but PostgreSQL prints these clauses in a fixed order, so cutting at the top-level
 * keywords recovers them exactly.
 */
record Clauses(String where, List<String> groupBy, String having) {

    /** @param tail the text from the end of the FROM item to the end of the SELECT */
    static Clauses of(String tail) {
        int where = keyword(tail, "WHERE");
        int group = keyword(tail, "GROUP BY");
        int having = keyword(tail, "HAVING");
        int end = tail.length();
        for (String next : new String[] {"WINDOW", "ORDER BY", "LIMIT", "OFFSET", "FETCH"}) { // what follows HAVING
            int at = keyword(tail, next);
            if (at >= 0 && at > Math.max(where, Math.max(group, having))) {
                end = Math.min(end, at);
            }
        }
        String w = where < 0 ? null : tail.substring(where + 5, firstAfter(where, end, group, having)).strip();
        List<String> g = group < 0 ? List.of()
                : splitTopLevel(tail.substring(group + 8, firstAfter(group, end, having)).strip());
        String h = having < 0 ? null : tail.substring(having + 6, end).strip();
        return new Clauses(w, g, h);
    }

    private static int firstAfter(int start, int end, int... candidates) {
        int best = end;
        for (int c : candidates) {
            if (c > start && c < best) {
                best = c;
            }
        }
        return best;
    }

    /**
     * The parenthesised group that follows {@code keyword} at {@code from} (PostgreSQL prints every
     * ON condition parenthesised), as [begin, end) of {@code text}; null if the text does not have
     * that shape.
     */
    static int[] parenthesizedAfter(String text, int from, String keyword) {
        int i = skipSpace(text, from);
        if (!text.regionMatches(true, i, keyword, 0, keyword.length())) {
            return null;
        }
        i = skipSpace(text, i + keyword.length());
        if (i >= text.length() || text.charAt(i) != '(') {
            return null;
        }
        int depth = 0;
        for (int j = i; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '\'' || c == '"') {
                j = skipQuoted(text, j, c);
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return new int[] {i, j + 1};
            }
        }
        return null;
    }

    static int skipSpace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** Position of a keyword at parenthesis depth 0, outside quotes, as a whole word; -1 if absent. */
    static int keyword(String s, String keyword) {
        int depth = 0;
        String upper = s.toUpperCase(Locale.ROOT);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipQuoted(s, i, c);
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (depth == 0 && upper.startsWith(keyword, i) && boundary(s, i - 1)
                    && boundary(s, i + keyword.length())) {
                return i;
            }
        }
        return -1;
    }

    /** Splits a list at commas of depth 0, outside quotes. */
    static List<String> splitTopLevel(String s) {
        List<String> out = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipQuoted(s, i, c);
            } else if (c == '(' || c == '[') {
                depth++;
            } else if (c == ')' || c == ']') {
                depth--;
            } else if (c == ',' && depth == 0) {
                out.add(s.substring(start, i).strip());
                start = i + 1;
            }
        }
        out.add(s.substring(start).strip());
        return out;
    }

    /** A word boundary; a '.' binds as in {@code t.rows}, a column, not the keyword ROWS. */
    private static boolean boundary(String s, int i) {
        return i < 0 || i >= s.length() || !(Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '.');
    }

    static int skipQuoted(String s, int start, char quote) {
        int i = start + 1;
        while (i < s.length()) {
            if (s.charAt(i) == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i;
            }
            i++;
        }
        return s.length();
    }
}
