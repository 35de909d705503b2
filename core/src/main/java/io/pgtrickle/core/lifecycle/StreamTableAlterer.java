package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.schedule.Schedule;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * alter (schedule, refresh mode, status) and resume, inside the caller's transaction. The work is
 * done by the catalog routines {@code pgtrickle._alter} and {@code pgtrickle._resume}, which the
 * SQL API calls too: one implementation, with the same ownership checks for every door.
 */
public final class StreamTableAlterer {

    /** Applies the non-null fields of {@code o}; returns notices for the user. */
    public List<String> alter(Connection conn, StreamTableInfo st, AlterOptions o) throws SQLException {
        if (o.isEmpty()) {
            throw PgtException.invalidArgument("nothing to alter",
                    "Give at least one of schedule, refresh mode or status.");
        }
        if (o.schedule() != null) {
            Schedule.parse(o.schedule()); // cron-utils' validation, stricter than the routine's field check
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT pgtrickle._alter(?, ?, ?, ?)")) {
            ps.setLong(1, st.id());
            ps.setString(2, o.schedule());
            ps.setString(3, o.refreshMode() == null ? null : o.refreshMode().name());
            ps.setString(4, o.status() == null ? null : o.status().name());
            List<String> notices;
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Array array = rs.getArray(1);
                notices = array == null ? List.of() : List.of((String[]) array.getArray());
            }
            // A switch to IMMEDIATE recomputes the contents now, with the owner's rights.
            try (PreparedStatement reinit = conn.prepareStatement("SELECT pgtrickle._reinit_immediate(?)")) {
                reinit.setLong(1, st.id());
                reinit.executeQuery().close();
            }
            return notices;
        }
    }

    /** Back to work after PAUSED, SUSPENDED or ERROR: errors are forgotten, the scheduler takes it again. */
    public void resume(Connection conn, StreamTableInfo st) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT pgtrickle._resume(?)")) {
            ps.setLong(1, st.id());
            ps.executeQuery().close();
        }
    }
}
