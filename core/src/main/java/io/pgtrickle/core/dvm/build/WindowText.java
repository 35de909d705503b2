package io.pgtrickle.core.dvm.build;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Window specifications in PostgreSQL's printed query text. JSqlParser 5.3 knows only part of their
 * grammar (not {@code GROUPS}, {@code EXCLUDE}, nor {@code OVER (w ORDER BY ...)}), and the compiler
 * needs only their PARTITION BY lists, so the parser is handed the text with every specification
 * blanked ({@link #blank}) and the partitions are read from the original text here.
 */
final class WindowText {
    private static final String[] SPEC_ENDS = {"ORDER BY", "ROWS", "RANGE", "GROUPS"};

    private WindowText() {
    }

    /**
     * The text with the inside of every {@code OVER (...)} and every {@code WINDOW name AS (...), ...}
     * clause replaced by spaces, so that every position stays the same.
     */
    static String blank(String sql) {
        StringBuilder b = null;
        String upper = sql.toUpperCase(Locale.ROOT);
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                i = Clauses.skipQuoted(sql, i, c);
                continue;
            }
            if (isWord(upper, i, "OVER")) {
                int[] spec = Clauses.parenthesizedAfter(sql, i + 4, "");
                if (spec != null) {
                    b = blankRange(b, sql, spec[0] + 1, spec[1] - 1);
                    i = spec[1] - 1;
                }
            } else if (isWord(upper, i, "WINDOW")) {
                int end = windowClauseEnd(sql, i + 6);
                if (end > 0) {
                    b = blankRange(b, sql, i, end);
                    i = end - 1;
                }
            }
        }
        return b == null ? sql : b.toString();
    }

    /**
     * The PARTITION BY expressions of the window a window function call uses, as written; empty
     * when it has none.
     *
     * @param call    the call's text ({@code f(...) [FILTER (...)] OVER ...})
     * @param windows the SELECT's WINDOW clause by name ({@link #definitions})
     */
    static List<String> partitionOf(String call, Map<String, String> windows) throws Unsupported {
        int over = Clauses.keyword(call, "OVER");
        if (over < 0) {
            throw new Unsupported("cannot locate OVER in window function call " + call);
        }
        String rest = call.substring(over + 4).strip();
        if (rest.startsWith("(")) {
            return partitionOfSpec(rest.substring(1, rest.lastIndexOf(')')), windows, 0);
        }
        return partitionOfNamed(rest, windows, 0);
    }

    /**
     * The definitions of a WINDOW clause ({@code WINDOW w AS (spec), v AS (spec)}) by name, the
     * specification without its parentheses; empty when the text has no WINDOW clause.
     *
     * @param tail the SELECT's text after its FROM clause
     */
    static Map<String, String> definitions(String tail) throws Unsupported {
        Map<String, String> out = new HashMap<>();
        String clause = clause(tail);
        if (clause == null) {
            return out;
        }
        for (String def : Clauses.splitTopLevel(clause.substring("WINDOW".length()).strip())) {
            int as = Clauses.keyword(def, "AS");
            int open = def.indexOf('(', Math.max(as, 0));
            if (as <= 0 || open < 0 || !def.endsWith(")")) {
                throw new Unsupported("cannot read the WINDOW clause " + clause);
            }
            out.put(name(def.substring(0, as)), def.substring(open + 1, def.length() - 1));
        }
        return out;
    }

    /** The WINDOW clause ({@code WINDOW ...}) of a SELECT's text after its FROM clause, or null. */
    static String clause(String tail) {
        int at = Clauses.keyword(tail, "WINDOW");
        if (at < 0) {
            return null;
        }
        int end = windowClauseEnd(tail, at + 6);
        return end < 0 ? null : tail.substring(at, end).strip();
    }

    private static List<String> partitionOfSpec(String spec, Map<String, String> windows, int depth) throws Unsupported {
        String s = spec.strip();
        int partition = Clauses.keyword(s, "PARTITION BY");
        int firstEnd = s.length();
        for (String end : SPEC_ENDS) {
            int at = Clauses.keyword(s, end);
            if (at >= 0 && at > partition) {
                firstEnd = Math.min(firstEnd, at);
            }
        }
        if (partition >= 0) {
            return Clauses.splitTopLevel(s.substring(partition + "PARTITION BY".length(), firstEnd).strip());
        }
        // "w ORDER BY ...": a copy of window w, whose partitioning it must keep
        String head = s.substring(0, firstEnd).strip();
        return head.isEmpty() ? List.of() : partitionOfNamed(head, windows, depth);
    }

    private static List<String> partitionOfNamed(String name, Map<String, String> windows, int depth) throws Unsupported {
        String spec = windows.get(name(name));
        if (spec == null || depth > windows.size()) {
            throw new Unsupported("cannot resolve window " + name.strip());
        }
        return partitionOfSpec(spec, windows, depth + 1);
    }

    /** A window name as PostgreSQL resolves it: quoted as written, otherwise folded to lower case. */
    private static String name(String written) {
        String n = written.strip();
        return n.startsWith("\"") ? TreeBuilder.unquote(n) : n.toLowerCase(Locale.ROOT);
    }

    /** The end of {@code name AS (...) [, name AS (...)]...} starting at {@code from}; -1 if not that shape. */
    private static int windowClauseEnd(String sql, int from) {
        int i = from;
        int end = -1;
        while (true) {
            int j = Clauses.skipSpace(sql, i);
            int nameEnd = j;
            while (nameEnd < sql.length() && (Character.isLetterOrDigit(sql.charAt(nameEnd)) || sql.charAt(nameEnd) == '_'
                    || sql.charAt(nameEnd) == '"')) {
                nameEnd++;
            }
            if (nameEnd == j) {
                return end;
            }
            int[] spec = Clauses.parenthesizedAfter(sql, nameEnd, "AS");
            if (spec == null) {
                return end;
            }
            end = spec[1];
            int next = Clauses.skipSpace(sql, end);
            if (next >= sql.length() || sql.charAt(next) != ',') {
                return end;
            }
            i = next + 1;
        }
    }

    private static boolean isWord(String upper, int i, String word) {
        return upper.startsWith(word, i) && !identifierChar(upper, i - 1) && !identifierChar(upper, i + word.length());
    }

    private static boolean identifierChar(String s, int i) {
        return i >= 0 && i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '.');
    }

    private static StringBuilder blankRange(StringBuilder b, String sql, int from, int to) {
        StringBuilder out = b == null ? new StringBuilder(sql) : b;
        for (int i = from; i < to; i++) {
            if (!Character.isWhitespace(out.charAt(i))) {
                out.setCharAt(i, ' ');
            }
        }
        return out;
    }
}
