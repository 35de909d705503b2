package io.pgtrickle.core.schedule;

import java.time.Instant;
import java.util.List;

/**
 * What the scheduler knows of a stream table in one tick.
 *
 * @param upstream         ids of the stream tables it reads
 * @param uncapturedSource it reads a source without change capture (materialized view, foreign
 *                         table): changes cannot be seen, so every due tick refreshes it
 */
public record ScheduledTable(long id, String name, Schedule schedule, Instant lastRefreshAt, List<Long> upstream,
                             boolean uncapturedSource) {
}
