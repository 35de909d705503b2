package io.pgtrickle.core.api;

import io.pgtrickle.core.catalog.StreamTableCatalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/** Calls the refresh procedure, the one implementation behind every door (DESIGN.md §2). */
public final class Refresher {
    private Refresher() {
    }

    /**
     * Runs {@code pgtrickle._refresh_procedure}. On an autocommit connection it runs in its own
     * REPEATABLE READ transaction; inside a REPEATABLE READ transaction it joins it.
     *
     * @param waitForLock false: skip (empty result) when another session is refreshing it
     */
    public static Optional<RefreshResult> refresh(Connection conn, long streamTableId, String initiatedBy,
                                                  boolean forceFull, boolean waitForLock) throws SQLException {
        Long refreshId;
        try (PreparedStatement ps = conn.prepareStatement("CALL pgtrickle._refresh_procedure(?, ?, ?, ?, NULL)")) {
            ps.setLong(1, streamTableId);
            ps.setString(2, initiatedBy);
            ps.setBoolean(3, forceFull);
            ps.setBoolean(4, waitForLock);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long id = rs.getLong(1);
                refreshId = rs.wasNull() ? null : id;
            }
        } catch (SQLException e) {
            if ("2D000".equals(e.getSQLState())) {
                throw new PgtException(ErrorCode.INVALID_STATE, "25001",
                        "a refresh cannot run inside a READ COMMITTED transaction block",
                        "Refresh outside a transaction block (autocommit), or start the transaction with "
                                + "BEGIN ISOLATION LEVEL REPEATABLE READ to refresh as part of it.", e);
            }
            throw e;
        }
        if (refreshId == null) {
            return Optional.empty();
        }
        return Optional.of(new StreamTableCatalog().refreshResult(conn, refreshId));
    }
}
