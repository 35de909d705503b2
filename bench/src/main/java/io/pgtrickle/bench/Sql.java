package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** The few JDBC helpers the scenarios share; every statement text is the bench's own (no user input). */
final class Sql {
    private Sql() {
    }

    static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** Milliseconds the statement took, round trip included. */
    static double timed(Connection c, String sql) throws SQLException {
        long start = System.nanoTime();
        exec(c, sql);
        return millisSince(start);
    }

    static double millisSince(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e6;
    }

    static String string(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static long number(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static List<String> strings(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    /** A string literal, for the bench's own names only. */
    static String literal(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    /** The action and change-row count of the latest refresh of a stream table, e.g. "DIFFERENTIAL". */
    static String lastAction(Connection c, String streamTable) throws SQLException {
        return string(c, "SELECT h.action FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
                + " WHERE s.pgt_name = " + literal(streamTable) + " ORDER BY h.refresh_id DESC LIMIT 1");
    }

    /** Bytes of WAL inserted so far, or -1 when the role may not read it. */
    static long walPosition(Connection c) {
        try {
            return number(c, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::bigint");
        } catch (SQLException e) {
            return -1;
        }
    }
}
