package io.pgtrickle.server.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.pgtrickle.core.api.HistoryEntry;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTableInfo;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * The documents {@code --json} prints. They are the CLI's own records, not core's, so that renaming a field in
 * the engine cannot silently break scripts; {@link Output#JSON} turns the component names into snake_case.
 */
final class JsonViews {
    private JsonViews() {
    }

    public record Install(int fromVersion, int toVersion, boolean changed) {
    }

    public record Source(String schema, String name, String type, List<String> columnsUsed) {
    }

    /** {@code row_count} appears only where it was counted ({@code status NAME}). */
    public record StreamTable(String name, String schema, String table, String status, String refreshMode,
                              String schedule, boolean populated, boolean needsReinit, String reinitReason,
                              OffsetDateTime lastRefreshAt, OffsetDateTime dataTimestamp, int consecutiveErrors,
                              String lastError, String definingQuery, List<Source> sources,
                              @JsonInclude(JsonInclude.Include.NON_NULL) Long rowCount) {

        static StreamTable of(StreamTableInfo st, Long rowCount) {
            List<Source> sources = st.sources() == null ? List.of() : st.sources().stream()
                    .map(s -> new Source(s.schema(), s.name(), s.type(), s.columnsUsed())).toList();
            return new StreamTable(st.qualifiedName(), st.schema(), st.name(), st.status().name(),
                    st.refreshMode().name(), st.scheduleText(), st.populated(), st.needsReinit(), st.reinitReason(),
                    st.lastRefreshAt(), st.dataTimestamp(), st.consecutiveErrors(), st.lastError(),
                    st.definingQuery(), sources, rowCount);
        }

        static StreamTable of(StreamTableInfo st) {
            return of(st, null);
        }
    }

    public record StreamTableList(List<StreamTable> streamTables) {
        static StreamTableList of(List<StreamTableInfo> list) {
            return new StreamTableList(list.stream().map(StreamTable::of).toList());
        }
    }

    public record Created(String outcome, StreamTable streamTable, List<String> notices) {
    }

    public record Altered(StreamTable streamTable, List<String> notices) {
    }

    public record Dropped(List<String> dropped) {
    }

    public record Refresh(String streamTable, long refreshId, String action, long rowsInserted, long rowsDeleted,
                          long changeRows, String reason, String initiatedBy, OffsetDateTime startTime,
                          OffsetDateTime endTime, long durationMs) {
        static Refresh of(RefreshResult r) {
            return new Refresh(r.streamTable(), r.refreshId(), r.action(), r.rowsInserted(), r.rowsDeleted(),
                    r.changeRows(), r.reason(), r.initiatedBy(), r.startTime(), r.endTime(), r.durationMillis());
        }
    }

    public record HistoryRow(long refreshId, String streamTable, String action, String status, String initiatedBy,
                             OffsetDateTime startTime, OffsetDateTime endTime, long durationMs, long rowsInserted,
                             long rowsDeleted, long changeRows, String reason, String errorMessage) {
        static HistoryRow of(HistoryEntry h) {
            return new HistoryRow(h.refreshId(), h.streamTable(), h.action(), h.status(), h.initiatedBy(),
                    h.startTime(), h.endTime(), h.durationMillis(), h.rowsInserted(), h.rowsDeleted(),
                    h.changeRows(), h.reason(), h.errorMessage());
        }
    }

    public record History(List<HistoryRow> refreshes) {
        static History of(List<HistoryEntry> entries) {
            return new History(entries.stream().map(HistoryRow::of).toList());
        }
    }
}
