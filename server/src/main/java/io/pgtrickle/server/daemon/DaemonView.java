package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.catalog.CatalogInstaller;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.server.http.StatusSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The daemon as the HTTP endpoints see it; each request reads the catalog on a connection of its own. */
final class DaemonView implements StatusSource {
    private final Daemon daemon;
    private final ConnectionSource connections;

    DaemonView(Daemon daemon) {
        this.daemon = daemon;
        this.connections = daemon.connections("pgtrickle http", 10);
    }

    private String role() {
        return daemon.leader() ? "leader" : "standby";
    }

    @Override
    public Health health() {
        try (Connection c = connections.open()) {
            return new Health(role(), true, CatalogInstaller.installedVersion(c), CatalogInstaller.latestVersion());
        } catch (SQLException e) {
            return new Health(role(), false, 0, CatalogInstaller.latestVersion());
        }
    }

    @Override
    public String prometheus() {
        return daemon.metrics().scrape();
    }

    @Override
    public List<StreamTableRow> streamTables() throws SQLException {
        Scheduler s = daemon.scheduler();
        Map<String, Instant> fresh = s == null ? Map.of() : s.freshAsOf();
        List<StreamTableRow> rows = new ArrayList<>();
        try (Connection c = connections.open(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), s.status,
                       coalesce(s.effective_refresh_mode, s.refresh_mode),
                       coalesce(s.schedule, CASE WHEN s.refresh_mode = 'IMMEDIATE' THEN '-' ELSE 'calculated' END),
                       s.last_refresh_at, h.action, h.ms, s.last_error_message
                  FROM pgtrickle.pgt_stream_tables s
                  LEFT JOIN LATERAL (
                       SELECT action, (extract(epoch FROM end_time - start_time) * 1000)::bigint AS ms
                         FROM pgtrickle.pgt_refresh_history
                        WHERE pgt_id = s.pgt_id AND status = 'COMPLETED'
                        ORDER BY start_time DESC LIMIT 1) h ON true
                 ORDER BY 1""")) {
            while (rs.next()) {
                Timestamp last = rs.getTimestamp(5);
                rows.add(new StreamTableRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        fresh.get(rs.getString(1)), last == null ? null : last.toInstant(), rs.getString(6),
                        rs.getLong(7), rs.getString(8)));
            }
        }
        return rows;
    }
}
