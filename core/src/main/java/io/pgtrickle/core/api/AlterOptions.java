package io.pgtrickle.core.api;

/**
 * What {@code alter_stream_table} changes; a null field means "leave unchanged".
 */
public record AlterOptions(String schedule, RefreshMode refreshMode, Status status) {
    public static AlterOptions none() {
        return new AlterOptions(null, null, null);
    }

    public AlterOptions withSchedule(String s) {
        return new AlterOptions(s, refreshMode, status);
    }

    public AlterOptions withRefreshMode(RefreshMode m) {
        return new AlterOptions(schedule, m, status);
    }

    public AlterOptions withStatus(Status s) {
        return new AlterOptions(schedule, refreshMode, s);
    }

    public boolean isEmpty() {
        return schedule == null && refreshMode == null && status == null;
    }
}
