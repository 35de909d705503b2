package io.pgtrickle.core.api;

import java.util.Set;

/** Retry or not, from SQLSTATE only: message text is localised (sql-api.md §6.3). */
public final class RetryPolicy {
    private static final Set<String> NEVER_RETRY_CLASSES = Set.of("22", "23", "28", "42", "0A", "3F", "2B", "P0");

    private RetryPolicy() {
    }

    public static boolean retryable(String sqlState) {
        if (sqlState == null || sqlState.length() != 5) {
            return true;
        }
        String cls = sqlState.substring(0, 2);
        if (cls.equals("40") || cls.equals("08") || sqlState.equals("55P03") || sqlState.equals("57014")) {
            return true; // serialisation/deadlock, connection, lock not available, statement timeout
        }
        if (cls.equals("55") || sqlState.equals("57P01")) {
            return false; // object in wrong state; admin shutdown
        }
        return !NEVER_RETRY_CLASSES.contains(cls);
    }
}
