package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** alter (schedule, refresh mode, status) and resume, inside the caller's transaction. */
public final class StreamTableAlterer {

    /** Applies the non-null fields of {@code o}; returns notices for the user. */
    public List<String> alter(Connection conn, StreamTableInfo st, AlterOptions o) throws SQLException {
        List<String> notices = new ArrayList<>();
        if (o.isEmpty()) {
            throw PgtException.invalidArgument("nothing to alter",
                    "Give at least one of schedule, refresh mode or status.");
        }
        if (o.schedule() != null) {
            Schedule schedule = Schedule.parse(o.schedule());
            update(conn, st.id(), "schedule = ?", schedule.catalogText());
        }
        if (o.refreshMode() != null) {
            String unsupported = Jdbc.queryOne(conn, String.class,
                    "SELECT CASE WHEN diff_apply_sql IS NULL THEN coalesce(unsupported_reason, 'not compiled for DIFFERENTIAL') END"
                            + " FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?", st.id()).orElse(null);
            ModeResolution resolved = ModeResolution.resolve(st.qualifiedName(), o.refreshMode(), unsupported);
            notices.addAll(resolved.notices());
            RefreshMode mode = resolved.mode();
            // Row identity is the same in both modes, so switching needs no rebuild.
            update(conn, st.id(), "refresh_mode = ?", mode.name());
            update(conn, st.id(), "requested_refresh_mode = ?", o.refreshMode().name());
        }
        if (o.status() != null) {
            if (o.status() != Status.ACTIVE && o.status() != Status.PAUSED) {
                throw PgtException.invalidArgument("invalid status " + o.status(), "alter accepts ACTIVE or PAUSED.");
            }
            if (o.status() == Status.ACTIVE) {
                resume(conn, st);
            } else {
                update(conn, st.id(), "status = ?", Status.PAUSED.name());
            }
        }
        return notices;
    }

    /** Back to work after PAUSED, SUSPENDED or ERROR: errors are forgotten, the scheduler takes it again. */
    public void resume(Connection conn, StreamTableInfo st) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                UPDATE pgtrickle.pgt_stream_tables
                   SET status = CASE WHEN is_populated THEN 'ACTIVE' ELSE 'INITIALIZING' END,
                       consecutive_errors = 0, last_error_message = NULL, last_error_sqlstate = NULL,
                       last_error_at = NULL, updated_at = now()
                 WHERE pgt_id = ?""")) {
            ps.setLong(1, st.id());
            ps.executeUpdate();
        }
    }

    private static void update(Connection conn, long id, String assignment, String value) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE pgtrickle.pgt_stream_tables SET " + assignment + ", updated_at = now() WHERE pgt_id = ?")) {
            ps.setString(1, value);
            ps.setLong(2, id);
            ps.executeUpdate();
        }
    }
}
