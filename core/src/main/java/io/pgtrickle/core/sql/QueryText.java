package io.pgtrickle.core.sql;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import java.util.function.Function;
import java.util.regex.MatchResult;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lexical checks on a defining query before PostgreSQL sees it: exactly one statement, trailing
 * semicolons removed. The query is later embedded in other statements, so a second statement
 * hidden after a semicolon must never reach the server.
 */
public final class QueryText {
    private QueryText() {
    }

    /** The query without trailing semicolons and whitespace; rejects empty input and several statements. */
    public static String normalise(String query) {
        if (query == null || query.isBlank()) {
            throw new PgtException(ErrorCode.QUERY_INVALID, "the defining query is empty",
                    "Give a SELECT statement, e.g. 'SELECT id, total FROM orders'.");
        }
        if (query.indexOf('\0') >= 0) {
            throw new PgtException(ErrorCode.QUERY_INVALID, "the defining query contains a NUL character", null);
        }
        int end = query.length();
        int semicolon = firstTopLevelSemicolon(query);
        if (semicolon >= 0) {
            if (!onlySemicolonsAndSpaceAfter(query, semicolon)) {
                throw new PgtException(ErrorCode.QUERY_INVALID,
                        "the defining query contains more than one statement (at position " + (semicolon + 1) + ")",
                        "A stream table is defined by a single SELECT; remove everything after the ';'.");
            }
            end = semicolon;
        }
        String trimmed = query.substring(0, end).strip();
        if (trimmed.isEmpty()) {
            throw new PgtException(ErrorCode.QUERY_INVALID, "the defining query is empty", null);
        }
        return trimmed;
    }

    private static boolean onlySemicolonsAndSpaceAfter(String q, int from) {
        for (int i = from; i < q.length(); i++) {
            char c = q.charAt(i);
            if (c != ';' && !Character.isWhitespace(c)) {
                // Comments after the last statement are harmless; anything else is another statement.
                if (q.startsWith("--", i)) {
                    int nl = q.indexOf('\n', i);
                    if (nl < 0) {
                        return true;
                    }
                    i = nl;
                    continue;
                }
                if (q.startsWith("/*", i)) {
                    int close = skipBlockComment(q, i);
                    if (close < 0) {
                        return true;
                    }
                    i = close - 1;
                    continue;
                }
                return false;
            }
        }
        return true;
    }

    /**
     * Whether a query as PostgreSQL prints it keeps rows by position (LIMIT, FETCH, a non-zero
     * OFFSET) at its top level without an ORDER BY there: which rows it returns then depends on the
     * order PostgreSQL happens to read them in. Subqueries are parenthesised in printed text, so
     * only clauses at parenthesis depth 0 belong to the top.
     */
    public static boolean limitWithoutOrderBy(String printed) {
        String upper = printed.toUpperCase(java.util.Locale.ROOT);
        boolean orderBy = false;
        boolean limit = false;
        int depth = 0;
        for (int i = 0; i < printed.length(); i++) {
            char c = printed.charAt(i);
            if (c == '\'' || c == '"') {
                i = skipQuoted(printed, i, c) - 1;
            } else if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (depth == 0 && wordAt(upper, i)) {
                orderBy |= word(upper, i, "ORDER BY");
                limit |= word(upper, i, "LIMIT") && !word(upper, i, "LIMIT ALL") || word(upper, i, "FETCH")
                        || word(upper, i, "OFFSET") && !word(upper, i, "OFFSET 0");
            }
        }
        return limit && !orderBy;
    }

    /**
     * The first whole-row reference ({@code src.*} in {@code (src.*)::text} or {@code row_to_json(s.*)})
     * of a query as PostgreSQL prints it, or null. PostgreSQL prints a select list's {@code *} and
     * {@code t.*} as the columns they stand for, so what is left is a row value: it reads every
     * column of its table, though PostgreSQL records no dependency on any of them.
     */
    public static String wholeRowReference(String printed) {
        for (int i = 0; i < printed.length(); i++) {
            char c = printed.charAt(i);
            if (c == '\'') {
                i = skipQuoted(printed, i, c) - 1;
            } else if (c == '"') {
                int end = skipQuoted(printed, i, c);
                if (printed.startsWith(".*", end)) {
                    return printed.substring(i, end + 2);
                }
                i = end - 1;
            } else if (c == '.' && printed.startsWith(".*", i) && i > 0 && identifierChar(printed.charAt(i - 1))) {
                int start = i;
                while (start > 0 && identifierChar(printed.charAt(start - 1))) {
                    start--;
                }
                return printed.substring(start, i + 2);
            }
        }
        return null;
    }

    /** {@code word} at {@code i}, not followed by a character of an identifier ({@code fetched_at} is no FETCH). */
    private static boolean word(String upper, int i, String word) {
        int end = i + word.length();
        return upper.startsWith(word, i) && (end >= upper.length() || !(Character.isLetterOrDigit(upper.charAt(end))
                || upper.charAt(end) == '_' || upper.charAt(end) == '$'));
    }

    private static boolean wordAt(String s, int i) {
        return i == 0 || !(identifierChar(s.charAt(i - 1)) || s.charAt(i - 1) == '.');
    }

    /** A character of an unquoted identifier (after its first). */
    private static boolean identifierChar(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    /** Index of the first ';' outside literals, quoted identifiers, dollar quotes and comments, or -1. */
    static int firstTopLevelSemicolon(String q) {
        int i = 0;
        while (i < q.length()) {
            if (q.charAt(i) == ';') {
                return i;
            }
            int end = literalEnd(q, i);
            i = end >= 0 ? end : codeStep(q, i);
        }
        return -1;
    }

    /** The index after the code at {@code i}: a quoted identifier whole (a quote inside it starts nothing), else one character. */
    private static int codeStep(String q, int i) {
        return q.charAt(i) == '"' ? skipQuoted(q, i, '"') : i + 1;
    }

    /**
     * Where the string literal, dollar quote or comment that starts at {@code i} ends (the index
     * after it), or -1 when none starts there.
     */
    private static int literalEnd(String q, int i) {
        char c = q.charAt(i);
        int n = q.length();
        if (c == '\'') {
            return skipQuoted(q, i, '\'');
        } else if (c == '-' && q.startsWith("--", i)) {
            int nl = q.indexOf('\n', i);
            return nl < 0 ? n : nl + 1;
        } else if (c == '/' && q.startsWith("/*", i)) {
            int close = skipBlockComment(q, i);
            return close < 0 ? n : close;
        } else if (c == '$') {
            int tagEnd = dollarTagEnd(q, i);
            if (tagEnd > 0) {
                String tag = q.substring(i, tagEnd + 1);
                int close = q.indexOf(tag, tagEnd + 1);
                return close < 0 ? n : close + tag.length();
            }
        }
        return -1;
    }

    /**
     * {@code text} with the matches of {@code pattern} replaced by {@code replacement}'s text,
     * outside string literals, dollar quotes and comments: for rewriting references in SQL that
     * embeds a user's expression, whose literals must stay as written.
     */
    public static String replaceOutsideLiterals(String text, Pattern pattern, Function<MatchResult, String> replacement) {
        Function<String, String> replaced = segment -> pattern.matcher(segment).replaceAll(r -> Matcher.quoteReplacement(replacement.apply(r)));
        StringBuilder out = new StringBuilder(text.length());
        int code = 0;
        int i = 0;
        while (i < text.length()) {
            int end = literalEnd(text, i);
            if (end < 0) {
                i = codeStep(text, i); // a quoted identifier stays code: a reference may be quoted
                continue;
            }
            out.append(replaced.apply(text.substring(code, i))).append(text, i, end);
            code = end;
            i = end;
        }
        return out.append(replaced.apply(text.substring(code))).toString();
    }

    /** Whether position {@code at} of {@code text} is inside a string literal, dollar quote or comment. */
    public static boolean insideLiteral(String text, int at) {
        int i = 0;
        while (i <= at && i < text.length()) {
            int end = literalEnd(text, i);
            if (end > at) {
                return true;
            }
            i = end >= 0 ? end : codeStep(text, i);
        }
        return false;
    }

    private static int skipQuoted(String q, int start, char quote) {
        int i = start + 1;
        // E'...' strings may escape a quote with a backslash.
        boolean escapes = quote == '\'' && start > 0 && (q.charAt(start - 1) == 'E' || q.charAt(start - 1) == 'e');
        while (i < q.length()) {
            char c = q.charAt(i);
            if (escapes && c == '\\') {
                i += 2;
                continue;
            }
            if (c == quote) {
                if (i + 1 < q.length() && q.charAt(i + 1) == quote) {
                    i += 2;
                    continue;
                }
                return i + 1;
            }
            i++;
        }
        return q.length();
    }

    /** Nested block comments, as PostgreSQL allows; returns the index after the closing delimiter or -1. */
    private static int skipBlockComment(String q, int start) {
        int depth = 0;
        int i = start;
        while (i < q.length() - 1) {
            if (q.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (q.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    /** For "$tag$" starting at i, the index of the closing '$' of the opening tag, else -1. */
    private static int dollarTagEnd(String q, int i) {
        if (i > 0 && (Character.isLetterOrDigit(q.charAt(i - 1)) || q.charAt(i - 1) == '_')) {
            return -1; // part of an identifier such as a$b
        }
        int j = i + 1;
        while (j < q.length() && (Character.isLetterOrDigit(q.charAt(j)) || q.charAt(j) == '_')) {
            if (j == i + 1 && Character.isDigit(q.charAt(j))) {
                return -1; // $1 is a parameter, not a dollar quote
            }
            j++;
        }
        return j < q.length() && q.charAt(j) == '$' ? j : -1;
    }

    /** "line L, column C" of a 1-based character position, with the line and a caret under it. */
    public static String describePosition(String query, int position) {
        int idx = Math.max(0, Math.min(query.length(), position - 1));
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < idx; i++) {
            if (query.charAt(i) == '\n') {
                line++;
                lineStart = i + 1;
            }
        }
        int lineEnd = query.indexOf('\n', lineStart);
        String text = query.substring(lineStart, lineEnd < 0 ? query.length() : lineEnd);
        int column = idx - lineStart + 1;
        return "at line " + line + ", column " + column + ":\n  " + text + "\n  " + " ".repeat(column - 1) + "^";
    }
}
