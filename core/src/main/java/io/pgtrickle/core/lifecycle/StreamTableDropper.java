package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.StreamTableInfo;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;

/**
 * Drops stream tables, their storage and any capture no other stream table needs, through the
 * catalog routine {@code pgtrickle._drop} that the SQL API calls too.
 */
public final class StreamTableDropper {

    /** Returns every stream table dropped, dependents first. */
    public List<String> drop(Connection conn, StreamTableInfo st, boolean cascade) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT pgtrickle._drop(?, ?)")) {
            ps.setLong(1, st.id());
            ps.setBoolean(2, cascade);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                Array dropped = rs.getArray(1);
                return List.of((String[]) dropped.getArray());
            }
        }
    }
}
