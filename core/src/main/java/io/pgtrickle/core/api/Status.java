package io.pgtrickle.core.api;

import java.util.Locale;

/** {@code pgt_stream_tables.status}. */
public enum Status {
    /** Created, not populated yet. */
    INITIALIZING,
    ACTIVE,
    /** Paused by the user: the scheduler leaves it alone; manual refreshes still work. */
    PAUSED,
    /** Too many consecutive failures; resume to continue. */
    SUSPENDED,
    /** A failure that retrying cannot fix; resume after fixing the cause. */
    ERROR;

    /** Statuses a user may set with alter. */
    public static Status parseSettable(String text) {
        String s = text == null ? "" : text.strip().toUpperCase(Locale.ROOT);
        return switch (s) {
            case "ACTIVE" -> ACTIVE;
            case "PAUSED" -> PAUSED;
            default -> throw new PgtException(ErrorCode.INVALID_ARGUMENT, "invalid status '" + text + "'",
                    "alter accepts status ACTIVE or PAUSED; use resume for SUSPENDED or ERROR stream tables.");
        };
    }
}
