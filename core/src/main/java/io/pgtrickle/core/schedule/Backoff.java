package io.pgtrickle.core.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.random.RandomGenerator;

/**
 * Retry delay after a retryable failure: 1 s doubling per attempt up to 60 s (sql-api.md §6.4),
 * so a stream table whose source is locked for a minute costs six attempts, not six hundred.
 * Each delay is spread by ±25 % so that stream tables failing together (one lock, one lost
 * connection) do not all retry in the same instant.
 */
record Backoff(int attempts, Instant retryAt) {
    static final Duration BASE = Duration.ofSeconds(1);
    static final Duration CAP = Duration.ofSeconds(60);
    static final double JITTER = 0.25;

    static Backoff after(Backoff previous, Instant now, RandomGenerator random) {
        int attempts = previous == null ? 1 : previous.attempts + 1;
        long millis = Math.min(BASE.toMillis() << Math.min(attempts - 1, 16), CAP.toMillis());
        double factor = 1 - JITTER + 2 * JITTER * random.nextDouble();
        return new Backoff(attempts, now.plusMillis(Math.round(millis * factor)));
    }
}
