package io.pgtrickle.core.api;

import java.time.OffsetDateTime;

/** One row of {@code pgtrickle.pgt_refresh_history}. */
public record HistoryEntry(
        long refreshId,
        String streamTable,
        String action,
        String status,
        String initiatedBy,
        OffsetDateTime startTime,
        OffsetDateTime endTime,
        long rowsInserted,
        long rowsDeleted,
        long changeRows,
        String reason,
        String errorMessage) {

    public long durationMillis() {
        return startTime == null || endTime == null ? 0
                : java.time.Duration.between(startTime, endTime).toMillis();
    }
}
