package io.pgtrickle.core.api;

import java.time.OffsetDateTime;

/**
 * The outcome of one refresh, as recorded in {@code pgtrickle.pgt_refresh_history}.
 *
 * @param action NO_DATA, FULL, DIFFERENTIAL or REINITIALIZE; SKIP when another session was refreshing it
 */
public record RefreshResult(
        String streamTable,
        long refreshId,
        String action,
        long rowsInserted,
        long rowsDeleted,
        long changeRows,
        String reason,
        OffsetDateTime startTime,
        OffsetDateTime endTime,
        String initiatedBy) {

    public static RefreshResult skipped(String streamTable, String initiatedBy) {
        return new RefreshResult(streamTable, 0, "SKIP", 0, 0, 0, "being refreshed by another session",
                null, null, initiatedBy);
    }

    public long durationMillis() {
        return startTime == null || endTime == null ? 0
                : java.time.Duration.between(startTime, endTime).toMillis();
    }
}
