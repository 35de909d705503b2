package io.pgtrickle.core.dvm.build;

import java.util.Locale;
import java.util.Set;

/**
 * Names that PostgreSQL prints bare (they are no keywords of its own, or unreserved ones) but
 * JSqlParser 5.3 reserves: {@code max(b.price) AS final}, {@code x.start}, {@code output.col}. They
 * are quoted, as lower-case names mean the same quoted, before the query text is read. None of
 * these words is PostgreSQL syntax in a query (but JSON's {@code ABSENT ON NULL}, kept), and a call
 * of a function so named is left as it is. Type and function names JSqlParser reserves (date,
 * double, substr …) are left out: they parse. The first of {@link QueryParser}'s rewrites.
 */
final class ParserKeywords {
    private static final Set<String> RESERVED_HERE = Set.of("absent", "casewhen", "connect", "connect_by_root", "excludes",
            "extend", "final", "global", "ignore", "includes", "nocycle", "optimize", "output", "overwrite", "pivot",
            "preferring", "procedure", "qualify", "sample", "sel", "semi", "sql_cache", "sql_calc_found_rows", "sql_no_cache",
            "start", "straight_join", "unpivot", "use", "xor");

    private ParserKeywords() {
    }

    static String quoted(String sql) {
        StringBuilder out = null;
        int copied = 0;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (c == '\'' || c == '"') {
                i = Clauses.skipQuoted(sql, i, c);
                continue;
            }
            if (!(Character.isLetter(c) || c == '_') || i > 0 && (Character.isLetterOrDigit(sql.charAt(i - 1)) || sql.charAt(i - 1) == '_'
                    || sql.charAt(i - 1) == '$')) {
                continue;
            }
            int end = i;
            while (end < sql.length() && (Character.isLetterOrDigit(sql.charAt(end)) || sql.charAt(end) == '_' || sql.charAt(end) == '$')) {
                end++;
            }
            String word = sql.substring(i, end);
            if (RESERVED_HERE.contains(word.toLowerCase(Locale.ROOT)) && word.equals(word.toLowerCase(Locale.ROOT)) && isName(sql, i, end)) {
                if (out == null) {
                    out = new StringBuilder(sql.length() + 16);
                }
                out.append(sql, copied, i).append('"').append(word).append('"');
                copied = end;
            }
            i = end - 1;
        }
        return out == null ? sql : out.append(sql.substring(copied)).toString();
    }

    /** A name, not a call ({@code sample(x)}) nor JSON's {@code ABSENT ON NULL}: none of these words is PostgreSQL syntax otherwise. */
    private static boolean isName(String sql, int begin, int end) {
        int after = Clauses.skipSpace(sql, end);
        if (after < sql.length() && sql.charAt(after) == '(') {
            return false;
        }
        return !(sql.regionMatches(true, begin, "absent", 0, 6) && sql.regionMatches(true, after, "ON", 0, 2));
    }
}
