package io.pgtrickle.core.api;

import java.util.Locale;

/** How a stream table is kept up to date (DESIGN.md §1). */
public enum RefreshMode {
    /** DIFFERENTIAL when the query can be maintained incrementally, FULL otherwise; never stored. */
    AUTO,
    FULL,
    DIFFERENTIAL,
    IMMEDIATE;

    public static RefreshMode parse(String text) {
        if (text == null) {
            return AUTO;
        }
        String s = text.strip().toUpperCase(Locale.ROOT);
        if (s.equals("INCREMENTAL")) {
            return DIFFERENTIAL; // the original's deprecated alias
        }
        try {
            return valueOf(s.isEmpty() ? "-" : s);
        } catch (IllegalArgumentException e) {
            throw new PgtException(ErrorCode.INVALID_REFRESH_MODE, "unknown refresh mode '" + text + "'",
                    "Use one of AUTO, FULL, DIFFERENTIAL, IMMEDIATE.");
        }
    }
}
