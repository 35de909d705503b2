package io.pgtrickle.server.daemon;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * The metric names a PromQL expression selects, for checking dashboards and alert rules against
 * what /metrics exports. A lexer, not a parser: it skips strings, label matchers ({...}), ranges
 * ([...]), numbers and durations, Grafana variables ($x, ${x}), the label lists of by, without,
 * on, ignoring, group_left and group_right, keywords and function names (a name followed by "(");
 * every other name is a metric. Enough for valid expressions; it does not validate them.
 */
final class PromQl {
    private static final Set<String> KEYWORDS = Set.of(
            "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk",
            "quantile", "limitk", "limit_ratio", "by", "without", "on", "ignoring", "group_left", "group_right",
            "bool", "and", "or", "unless", "atan2", "offset", "inf", "nan");
    private static final Set<String> LABEL_LISTS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right");

    private PromQl() {
    }

    static Set<String> metricNames(String expr) {
        Set<String> names = new TreeSet<>();
        int i = 0;
        int n = expr.length();
        while (i < n) {
            char ch = expr.charAt(i);
            if (ch == '"' || ch == '\'' || ch == '`') {
                i = skipString(expr, i);
            } else if (ch == '#') {
                int eol = expr.indexOf('\n', i);
                i = eol < 0 ? n : eol;
            } else if (ch == '{') {
                i = skipBlock(expr, i, '{', '}');
            } else if (ch == '[') {
                i = skipBlock(expr, i, '[', ']');
            } else if (ch == '$') {
                i++;
                i = i < n && expr.charAt(i) == '{' ? skipBlock(expr, i, '{', '}') : skipWord(expr, i);
            } else if (Character.isDigit(ch) || ch == '.' && i + 1 < n && Character.isDigit(expr.charAt(i + 1))) {
                i = skipWord(expr, i); // 30, 1.5, 0x1f, 1e3, 5m, 1h30m
            } else if (Character.isLetter(ch) || ch == '_' || ch == ':') {
                int end = skipWord(expr, i);
                String word = expr.substring(i, end);
                String lower = word.toLowerCase(Locale.ROOT);
                int next = skipSpace(expr, end);
                boolean call = next < n && expr.charAt(next) == '(';
                if (LABEL_LISTS.contains(lower) && call) {
                    i = skipBlock(expr, next, '(', ')');
                } else {
                    if (!KEYWORDS.contains(lower) && !call) {
                        names.add(word);
                    }
                    i = end;
                }
            } else {
                i++;
            }
        }
        return names;
    }

    private static int skipWord(String s, int i) {
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || "_:.".indexOf(s.charAt(i)) >= 0)) {
            i++;
        }
        return i;
    }

    private static int skipSpace(String s, int i) {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
        return i;
    }

    /** From a quote to just past its closing quote; backslash escapes except in backquoted strings. */
    private static int skipString(String s, int i) {
        char quote = s.charAt(i++);
        while (i < s.length() && s.charAt(i) != quote) {
            i += s.charAt(i) == '\\' && quote != '`' ? 2 : 1;
        }
        return i + 1;
    }

    /** From an opening bracket to just past its matching close, skipping strings inside. */
    private static int skipBlock(String s, int i, char open, char close) {
        int depth = 0;
        while (i < s.length()) {
            char ch = s.charAt(i);
            if (ch == '"' || ch == '\'' || ch == '`') {
                i = skipString(s, i);
                continue;
            }
            if (ch == open) {
                depth++;
            } else if (ch == close && --depth == 0) {
                return i + 1;
            }
            i++;
        }
        throw new IllegalArgumentException("unbalanced " + open + " in: " + s);
    }
}
