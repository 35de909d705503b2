package io.pgtrickle.core.dvm.build;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text handed to the parser. Some PostgreSQL spellings are beyond JSqlParser 5.3 but do not
 * matter to the clauses it finds: those are blanked out here, space for character, so that every
 * position stays the same and the expressions cut from the original text by position keep them.
 * Today that is an interval's field qualifier, which PostgreSQL prints after a cast to interval
 * ({@code '3 mons'::interval month}, {@code ::interval day to second(3)}), window
 * specifications ({@link WindowText#blank}), and {@code ROWS FROM (...)} (read as a call). The second of
 * {@link QueryParser}'s rewrites.
 */
final class ParserText {
    private static final Pattern INTERVAL_QUALIFIER = Pattern.compile(
            "(?i)::interval((\\s+(year|month|day|hour|minute|second)\\b(\\s+to\\s+(month|hour|minute|second)\\b)?)?(\\s*\\(\\s*\\d+\\s*\\))?)");

    private ParserText() {
    }

    /** {@code ROWS FROM (f(...), g(...))}, which JSqlParser cannot read, as one call of the same length. */
    private static final Pattern ROWS_FROM = Pattern.compile("(?i)\\bROWS\\s+FROM\\s*\\(");

    static String of(String sql) {
        return WindowText.blank(rowsFromAsCall(intervalQualifiersBlanked(sql)));
    }

    /**
     * {@code ROWS FROM(f(a), g(b)) x(u, v)} read as {@code __pgtrows(f(a), g(b)) x(u, v)}: a function
     * in FROM to the parser, whose text (cut from the query as written) keeps ROWS FROM.
     */
    private static String rowsFromAsCall(String sql) {
        Matcher m = ROWS_FROM.matcher(sql);
        StringBuilder b = null;
        while (m.find()) {
            // a FROM item: after LATERAL, FROM, JOIN or a comma ("count(*) AS rows FROM (t ...)" is none)
            String before = sql.substring(0, m.start()).stripTrailing().toUpperCase(java.util.Locale.ROOT);
            boolean item = before.endsWith(",") || before.matches("(?s).*\\b(LATERAL|FROM|JOIN)$");
            if (!item || insideQuotes(sql, m.start())) {
                continue;
            }
            if (b == null) {
                b = new StringBuilder(sql);
            }
            String name = "__pgtrows" + "_".repeat(Math.max(0, m.end() - m.start() - 10));
            b.replace(m.start(), m.end(), name + "(");
        }
        return b == null ? sql : b.toString();
    }

    private static String intervalQualifiersBlanked(String sql) {
        Matcher m = INTERVAL_QUALIFIER.matcher(sql);
        StringBuilder b = null;
        while (m.find()) {
            if (m.group(1).isEmpty() || insideQuotes(sql, m.start())) {
                continue;
            }
            if (b == null) {
                b = new StringBuilder(sql);
            }
            for (int i = m.start(1); i < m.end(1); i++) {
                b.setCharAt(i, ' ');
            }
        }
        return b == null ? sql : b.toString();
    }

    private static boolean insideQuotes(String sql, int at) {
        for (int i = 0; i < at; i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                int end = Clauses.skipQuoted(sql, i, c);
                if (end >= at) {
                    return true;
                }
                i = end;
            }
        }
        return false;
    }
}
