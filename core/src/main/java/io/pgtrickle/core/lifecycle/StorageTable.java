package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.dvm.plan.Shape;
import io.pgtrickle.core.dvm.plan.StorageColumn;
import io.pgtrickle.core.sql.Sql;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;

/** The real table that holds a stream table's rows: the query's columns plus {@code __pgt_row_id}. */
final class StorageTable {
    private StorageTable() {
    }

    /**
     * Creates the table, its indexes and its DML guard; returns its OID.
     *
     * @param contentIndex whether refreshes look up rows by {@code __pgt_hash} ({@code CompiledQuery#findsRowsByContent})
     */
    static long create(Connection conn, QualifiedName name, List<StorageColumn> columns, Shape shape, boolean contentIndex)
            throws SQLException {
        String cols = columns.stream()
                .map(c -> "    " + Sql.quoteIdent(c.name()) + " " + c.type() + (c.collation() == null ? "" : " COLLATE " + c.collation()))
                .collect(Collectors.joining(",\n"));
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE TABLE " + name.quoted() + " (\n" + cols + ",\n    " + "__pgt_row_id bigint NOT NULL PRIMARY KEY\n)");
            if (contentIndex) {
                // Finding the copies of a row by its content hash keeps a differential apply O(delta).
                st.execute("CREATE INDEX ON " + name.quoted() + " (__pgt_hash)");
            }
            if (shape == Shape.PARTITIONED) {
                // A refresh finds the stored rows of an affected partition by its hash.
                for (StorageColumn c : columns) {
                    if (c.name().startsWith("__pgt_part")) {
                        st.execute("CREATE INDEX ON " + name.quoted() + " (" + c.name() + ")");
                    }
                }
            }
            // One statement-level guard: it costs nothing per row on the engine's own writes.
            st.execute("CREATE TRIGGER pgt_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON " + name.quoted()
                    + " FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._guard_storage()");
            st.execute("COMMENT ON TABLE " + name.quoted() + " IS "
                    + Sql.literal("pg_trickle stream table: maintained by pg_trickle, do not write to it"));
        }
        return Jdbc.queryLong(conn, "SELECT ?::regclass::oid::bigint", name.quoted());
    }

    /**
     * Gives a kept storage table the index on {@code __pgt_hash} that its new query's refreshes need,
     * or drops the one they no longer use (every write would maintain it for nothing).
     */
    static void syncContentIndex(Connection conn, QualifiedName name, long relid, boolean contentIndex) throws SQLException {
        List<String> existing = Jdbc.queryStrings(conn, """
                SELECT i.indexrelid::regclass::text FROM pg_index i
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attname = '__pgt_hash'
                 WHERE i.indrelid = ? AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum AND i.indpred IS NULL""", relid);
        try (Statement st = conn.createStatement()) {
            if (contentIndex && existing.isEmpty()) {
                st.execute("CREATE INDEX ON " + name.quoted() + " (__pgt_hash)");
            } else if (!contentIndex) {
                for (String index : existing) {
                    st.execute("DROP INDEX " + index);
                }
            }
        }
    }

    /** Columns of an existing storage table, to decide whether a new query can keep it. */
    static List<String> columnSignature(Connection conn, long relid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> '__pgt_row_id'
                 ORDER BY a.attnum""")) {
            ps.setLong(1, relid);
            try (ResultSet rs = ps.executeQuery()) {
                List<String> out = new java.util.ArrayList<>();
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
                return out;
            }
        }
    }

    static List<String> columnSignature(List<StorageColumn> columns) {
        return columns.stream().map(c -> c.name() + " " + c.type()).toList();
    }
}
