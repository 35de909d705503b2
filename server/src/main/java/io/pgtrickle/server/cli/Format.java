package io.pgtrickle.server.cli;

import io.pgtrickle.core.api.StreamTableInfo;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/** How values look in human output: one line each, "-" for nothing, local time to the second. */
final class Format {
    static final String NONE = "-";

    private Format() {
    }

    static String text(Object value) {
        if (value == null) {
            return NONE;
        }
        if (value instanceof OffsetDateTime t) {
            return timestamp(t);
        }
        if (value instanceof Boolean b) {
            return b ? "yes" : "no";
        }
        String s = value.toString();
        return s.isEmpty() ? NONE : s;
    }

    /** Local ISO time without fractions: people compare these with their own clock, not the server's zone. */
    static String timestamp(OffsetDateTime t) {
        return t == null ? NONE
                : t.atZoneSameInstant(ZoneId.systemDefault()).toLocalDateTime().truncatedTo(ChronoUnit.SECONDS)
                        .format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
    }

    static String millis(long ms) {
        return ms + " ms";
    }

    /** Collapses whitespace (server messages carry newlines) and cuts to {@code max} characters for tables. */
    static String cell(String s, int max) {
        if (s == null) {
            return null;
        }
        String one = s.strip().replaceAll("\\s+", " ");
        return one.length() <= max ? one : one.substring(0, max - 3) + "...";
    }

    /** "mode FULL, schedule 1m, status ACTIVE": the settings a user just changed, in one line. */
    static String settings(StreamTableInfo st) {
        return "mode " + st.refreshMode() + ", schedule " + st.scheduleText() + ", status " + st.status();
    }
}
