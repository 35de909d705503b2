package io.pgtrickle.core.schedule;

import java.time.Duration;
import java.time.Instant;

/**
 * Retry delay after a retryable failure: 1 s doubling per attempt up to 60 s (sql-api.md §6.4),
 * so a stream table whose source is locked for a minute costs six attempts, not six hundred.
 */
record Backoff(int attempts, Instant retryAt) {
    static final Duration BASE = Duration.ofSeconds(1);
    static final Duration CAP = Duration.ofSeconds(60);

    static Backoff after(Backoff previous, Instant now) {
        int attempts = previous == null ? 1 : previous.attempts + 1;
        long millis = BASE.toMillis() << Math.min(attempts - 1, 16);
        return new Backoff(attempts, now.plusMillis(Math.min(millis, CAP.toMillis())));
    }
}
