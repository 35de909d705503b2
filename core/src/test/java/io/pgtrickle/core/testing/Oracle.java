package io.pgtrickle.core.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** Compares a stream table with its defining query as multisets over the visible columns. */
public final class Oracle {
    private Oracle() {
    }

    /** Rows in one and not the other, prefixed "stored only:" or "query only:"; empty when equal. */
    public static List<String> differences(Db db, String streamTable) {
        try (Connection c = db.connect()) {
            return differences(c, streamTable);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The same on {@code c}, inside whatever transaction it is in (read-your-writes checks). */
    public static List<String> differences(Connection c, String streamTable) {
        try {
            List<String> out = new ArrayList<>();
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(differenceQuery(c, streamTable) + " LIMIT 20")) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The query behind {@link #differences}: one text column, a row per difference, without a LIMIT,
     * so that a caller can run it again and again or combine it with other checks in one statement.
     */
    public static String differenceQuery(Connection c, String streamTable) throws SQLException {
        String schema;
        String name;
        String query;
        List<String> columns = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT pgt_schema, pgt_name, defining_query, (SELECT array_agg(quote_ident(x->>'name') ORDER BY o)
                                                              FROM jsonb_array_elements(columns) WITH ORDINALITY AS e(x, o))
                  FROM pgtrickle.pgt_stream_tables
                 WHERE pgt_id = pgtrickle._resolve(?)""")) {
            ps.setString(1, streamTable);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                schema = rs.getString(1);
                name = rs.getString(2);
                query = rs.getString(3);
                for (String col : (String[]) rs.getArray(4).getArray()) {
                    columns.add(col);
                }
            }
        }
        String cols = String.join(", ", columns);
        String table = quote(schema) + "." + quote(name);
        // The query and the table are each read once (MATERIALIZED), then compared both ways.
        return "(WITH __oracle_q AS MATERIALIZED (SELECT " + cols + " FROM (" + query + ") q),"
                + " __oracle_s AS MATERIALIZED (SELECT " + cols + " FROM " + table + ")"
                + " (SELECT 'stored only: ' || ROW(" + cols + ")::text FROM (TABLE __oracle_s EXCEPT ALL TABLE __oracle_q) a)"
                + " UNION ALL (SELECT 'query only: ' || ROW(" + cols + ")::text FROM (TABLE __oracle_q EXCEPT ALL TABLE __oracle_s) b))";
    }

    private static String quote(String ident) {
        return '"' + ident.replace("\"", "\"\"") + '"';
    }
}
