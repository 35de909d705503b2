package io.pgtrickle.core.api;

import java.util.Objects;

/**
 * What {@code create_stream_table} takes.
 *
 * @param name        'table' or 'schema.table'; unqualified names go to the first schema of the search path
 * @param query       the defining query, one SELECT
 * @param schedule    duration, cron or 'calculated' (the default)
 * @param refreshMode requested mode; AUTO is resolved at create time and never stored
 * @param initialize  populate now (true, the default) or leave it to the first refresh
 */
public record CreateOptions(String name, String query, String schedule, RefreshMode refreshMode, boolean initialize) {
    public CreateOptions {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(query, "query");
        schedule = schedule == null ? "calculated" : schedule;
        refreshMode = refreshMode == null ? RefreshMode.AUTO : refreshMode;
    }

    public static CreateOptions of(String name, String query) {
        return new CreateOptions(name, query, "calculated", RefreshMode.AUTO, true);
    }

    public CreateOptions withSchedule(String s) {
        return new CreateOptions(name, query, s, refreshMode, initialize);
    }

    public CreateOptions withRefreshMode(RefreshMode m) {
        return new CreateOptions(name, query, schedule, m, initialize);
    }

    public CreateOptions withInitialize(boolean i) {
        return new CreateOptions(name, query, schedule, refreshMode, i);
    }
}
