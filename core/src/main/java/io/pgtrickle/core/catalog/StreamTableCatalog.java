package io.pgtrickle.core.catalog;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.HistoryEntry;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reads the catalog into the API's records. All methods run in the caller's transaction. */
public final class StreamTableCatalog {

    private static final String SELECT_ST = """
            SELECT pgt_id, pgt_schema, pgt_name, defining_query, schedule, refresh_mode, status, is_populated,
                   needs_reinit, reinit_reason, last_refresh_at, data_timestamp, consecutive_errors,
                   last_error_message, pgt_relid
              FROM pgtrickle.pgt_stream_tables
            """;

    /** The stream table a user's name refers to; unqualified names follow the search path. */
    public Optional<StreamTableInfo> find(Connection conn, QualifiedName name) throws SQLException {
        String sql = name.schema() != null
                ? SELECT_ST + " WHERE pgt_schema = ? AND pgt_name = ?"
                : SELECT_ST + " s JOIN " + """
                         unnest(current_schemas(false)) WITH ORDINALITY AS p(nsp, ord) ON p.nsp = s.pgt_schema
                         WHERE s.pgt_name = ? ORDER BY p.ord LIMIT 1""";
        try (PreparedStatement ps = conn.prepareStatement(sql)) {
            int i = 1;
            if (name.schema() != null) {
                ps.setString(i++, name.schema().text());
            }
            ps.setString(i, name.name().text());
            List<StreamTableInfo> found = read(conn, ps);
            return found.stream().findFirst();
        }
    }

    public StreamTableInfo require(Connection conn, QualifiedName name) throws SQLException {
        return find(conn, name).orElseThrow(() -> PgtException.notFound(name.display()));
    }

    public StreamTableInfo byId(Connection conn, long id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(SELECT_ST + " WHERE pgt_id = ?")) {
            ps.setLong(1, id);
            return read(conn, ps).stream().findFirst()
                    .orElseThrow(() -> new PgtException(ErrorCode.STREAM_TABLE_NOT_FOUND, "stream table " + id + " not found", null));
        }
    }

    public List<StreamTableInfo> list(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(SELECT_ST + " ORDER BY pgt_schema, pgt_name")) {
            return read(conn, ps);
        }
    }

    public long relid(Connection conn, long id) throws SQLException {
        return Jdbc.queryLong(conn, "SELECT pgt_relid::bigint FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?", id);
    }

    /** Stream tables that read stream table {@code id} directly. */
    public List<StreamTableInfo> downstream(Connection conn, long id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(SELECT_ST + """
                 WHERE pgt_id IN (SELECT d.pgt_id FROM pgtrickle.pgt_dependencies d
                                   WHERE d.source_relid = (SELECT pgt_relid FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?))
                 ORDER BY pgt_schema, pgt_name""")) {
            ps.setLong(1, id);
            return read(conn, ps);
        }
    }

    /** Edges of the DAG: for each stream table, the stream tables it reads. */
    public Map<Long, List<Long>> upstreamEdges(Connection conn) throws SQLException {
        Map<Long, List<Long>> edges = new LinkedHashMap<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT s.pgt_id, u.pgt_id
                  FROM pgtrickle.pgt_stream_tables s
                  LEFT JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = s.pgt_id
                  LEFT JOIN pgtrickle.pgt_stream_tables u ON u.pgt_relid = d.source_relid
                 ORDER BY s.pgt_id""");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                List<Long> ups = edges.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>());
                long up = rs.getLong(2);
                if (!rs.wasNull()) {
                    ups.add(up);
                }
            }
        }
        return edges;
    }

    public RefreshResult refreshResult(Connection conn, long refreshId) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT h.refresh_id, s.pgt_schema, s.pgt_name, h.action, h.rows_inserted, h.rows_deleted,
                       h.delta_row_count, h.refresh_reason, h.start_time, h.end_time, h.initiated_by
                  FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
                 WHERE h.refresh_id = ?""")) {
            ps.setLong(1, refreshId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw PgtException.internal("refresh " + refreshId + " has no history row", null);
                }
                return new RefreshResult(QualifiedName.of(rs.getString(2), rs.getString(3)).display(), rs.getLong(1),
                        rs.getString(4), rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getString(8),
                        rs.getObject(9, OffsetDateTime.class), rs.getObject(10, OffsetDateTime.class), rs.getString(11));
            }
        }
    }

    /** Newest first; {@code id} null means every stream table. */
    public List<HistoryEntry> history(Connection conn, Long id, int limit) throws SQLException {
        List<HistoryEntry> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT h.refresh_id, s.pgt_schema, s.pgt_name, h.action, h.status, h.initiated_by, h.start_time,
                       h.end_time, h.rows_inserted, h.rows_deleted, h.delta_row_count, h.refresh_reason, h.error_message
                  FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
                 WHERE (?::bigint IS NULL OR h.pgt_id = ?::bigint)
                 ORDER BY h.start_time DESC, h.refresh_id DESC
                 LIMIT ?""")) {
            ps.setObject(1, id);
            ps.setObject(2, id);
            ps.setInt(3, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new HistoryEntry(rs.getLong(1), QualifiedName.of(rs.getString(2), rs.getString(3)).display(),
                            rs.getString(4), rs.getString(5), rs.getString(6), rs.getObject(7, OffsetDateTime.class),
                            rs.getObject(8, OffsetDateTime.class), rs.getLong(9), rs.getLong(10), rs.getLong(11),
                            rs.getString(12), rs.getString(13)));
                }
            }
        }
        return out;
    }

    private List<StreamTableInfo> read(Connection conn, PreparedStatement ps) throws SQLException {
        List<StreamTableInfo> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long id = rs.getLong(1);
                out.add(new StreamTableInfo(id, rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        RefreshMode.valueOf(rs.getString(6)), Status.valueOf(rs.getString(7)), rs.getBoolean(8),
                        rs.getBoolean(9), rs.getString(10), rs.getObject(11, OffsetDateTime.class),
                        rs.getObject(12, OffsetDateTime.class), rs.getInt(13), rs.getString(14), List.of()));
            }
        }
        List<StreamTableInfo> withSources = new ArrayList<>(out.size());
        for (StreamTableInfo st : out) {
            withSources.add(new StreamTableInfo(st.id(), st.schema(), st.name(), st.definingQuery(), st.schedule(),
                    st.refreshMode(), st.status(), st.populated(), st.needsReinit() || captureLost(conn, st.id()),
                    st.reinitReason(), st.lastRefreshAt(), st.dataTimestamp(), st.consecutiveErrors(), st.lastError(),
                    sources(conn, st.id())));
        }
        return withSources;
    }

    private static List<StreamTableInfo.Source> sources(Connection conn, long id) throws SQLException {
        List<StreamTableInfo.Source> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT source_schema, source_name, source_type, columns_used
                  FROM pgtrickle.pgt_dependencies WHERE pgt_id = ? ORDER BY source_schema, source_name""")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Array a = rs.getArray(4);
                    out.add(new StreamTableInfo.Source(rs.getString(1), rs.getString(2), rs.getString(3),
                            a == null ? List.of() : List.of((String[]) a.getArray())));
                }
            }
        }
        return out;
    }

    /** True when capture was switched off while a source changed: the next refresh reinitialises. */
    private static boolean captureLost(Connection conn, long id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT pgtrickle._capture_lost(?)")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }
}
