package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The small queries the engine runs everywhere: one prepared statement, bound parameters, one value. */
public final class Jdbc {
    private Jdbc() {
    }

    /** The first column of the first row, or empty when there is no row (a NULL value is empty too). */
    public static <T> Optional<T> queryOne(Connection conn, Class<T> type, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(conn, sql, params); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? Optional.ofNullable(rs.getObject(1, type)) : Optional.empty();
        }
    }

    public static long queryLong(Connection conn, String sql, Object... params) throws SQLException {
        return queryOne(conn, Long.class, sql, params)
                .orElseThrow(() -> new SQLException("no value from: " + sql, "P0002"));
    }

    public static boolean queryBoolean(Connection conn, String sql, Object... params) throws SQLException {
        return queryOne(conn, Boolean.class, sql, params).orElse(false);
    }

    /** The first column of every row. */
    public static List<Long> queryLongs(Connection conn, String sql, Object... params) throws SQLException {
        return firstColumn(conn, rs -> rs.getLong(1), sql, params);
    }

    /** The first column of every row, as text. */
    public static List<String> queryStrings(Connection conn, String sql, Object... params) throws SQLException {
        return firstColumn(conn, rs -> rs.getString(1), sql, params);
    }

    private interface Column<T> {
        T read(ResultSet rs) throws SQLException;
    }

    private static <T> List<T> firstColumn(Connection conn, Column<T> column, String sql, Object... params) throws SQLException {
        List<T> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(conn, sql, params); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(column.read(rs));
            }
        }
        return out;
    }

    public static int update(Connection conn, String sql, Object... params) throws SQLException {
        try (PreparedStatement ps = prepare(conn, sql, params)) {
            return ps.executeUpdate();
        }
    }

    private static PreparedStatement prepare(Connection conn, String sql, Object... params) throws SQLException {
        PreparedStatement ps = conn.prepareStatement(sql);
        try {
            for (int i = 0; i < params.length; i++) {
                ps.setObject(i + 1, params[i]);
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }
}
