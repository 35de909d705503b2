package io.pgtrickle.core.api;

import java.time.OffsetDateTime;
import java.util.List;

/** One stream table as the catalog describes it. */
public record StreamTableInfo(
        long id,
        String schema,
        String name,
        String definingQuery,
        String schedule,
        RefreshMode refreshMode,
        Status status,
        boolean populated,
        boolean needsReinit,
        String reinitReason,
        OffsetDateTime lastRefreshAt,
        OffsetDateTime dataTimestamp,
        int consecutiveErrors,
        String lastError,
        List<Source> sources) {

    /** A relation this stream table reads. */
    public record Source(String schema, String name, String type, List<String> columnsUsed) {
    }

    /** 'schema.name' as a user writes it. */
    public String qualifiedName() {
        return io.pgtrickle.core.sql.QualifiedName.of(schema, name).display();
    }

    /** The schedule as the user gave it; 'calculated' when the catalog stores NULL. */
    public String scheduleText() {
        return schedule == null ? (refreshMode == RefreshMode.IMMEDIATE ? "-" : "calculated") : schedule;
    }
}
