package io.pgtrickle.core.refresh;

import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.api.Verification;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Checks the invariant "stream table == defining query" (DESIGN.md §5) on a live database: both
 * sides are read in one REPEATABLE READ snapshot and compared with EXCEPT ALL in both directions.
 * Equal only if no source changed since the last refresh; meant for checks, demos and support.
 */
public final class Verifier {

    public Verification verify(Connection conn, StreamTableInfo st) throws SQLException {
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT e.x->>'name' FROM pgtrickle.pgt_stream_tables s,
                       jsonb_array_elements(s.columns) WITH ORDINALITY AS e(x, o)
                 WHERE s.pgt_id = ? ORDER BY e.o""")) {
            ps.setLong(1, st.id());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    columns.add(Sql.quoteIdent(rs.getString(1)));
                }
            }
        }
        String cols = String.join(", ", columns);
        String table = QualifiedName.of(st.schema(), st.name()).quoted();
        String query = st.definingQuery();
        String sql = "SELECT (SELECT count(*) FROM " + table + "),"
                + " (SELECT count(*) FROM (SELECT " + cols + " FROM " + table + " EXCEPT ALL SELECT " + cols
                + " FROM (" + query + ") q) a),"
                + " (SELECT count(*) FROM (SELECT " + cols + " FROM (" + query + ") q EXCEPT ALL SELECT " + cols
                + " FROM " + table + ") b)";
        boolean autoCommit = conn.getAutoCommit();
        try (Statement s = conn.createStatement()) {
            if (autoCommit) {
                conn.setAutoCommit(false);
                s.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
            }
            try (ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return new Verification(st.qualifiedName(), rs.getLong(1), rs.getLong(2), rs.getLong(3));
            }
        } finally {
            if (autoCommit) {
                conn.rollback();
                conn.setAutoCommit(true);
            }
        }
    }
}
