package io.pgtrickle.core.cdc;

import io.pgtrickle.core.sql.Ident;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.ResolvedQuery.SourceKind;
import io.pgtrickle.core.sql.Sql;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trigger-based change capture: one change buffer per source table, filled by statement-level
 * AFTER triggers with transition tables (one INSERT ... SELECT per DML statement). The buffer
 * stores its rows in batches, one array per column ({@link BatchedBuffer}); readers see it through
 * a view with one row per changed row.
 *
 * <p>A buffer row is a Z-set entry: the row image of the captured columns with action
 * {@code I} (+1) or {@code D} (-1); an UPDATE is written as its deletions and insertions. Each
 * row records the writer's {@code pg_current_xact_id()}, which the refresh compares with its
 * snapshot frontiers. Two marker actions carry no row: {@code T} (the source was truncated) and
 * {@code P} (capture was switched off, so the buffer is incomplete). Both make the next refresh of
 * every dependent a full one.
 *
 * <p>All methods run inside the caller's transaction: creating or dropping a stream table and
 * its capture is one atomic change.
 */
public final class ChangeCapture {
    private static final Logger log = LoggerFactory.getLogger(ChangeCapture.class);

    /** Buffer bookkeeping columns; user columns never start with __pgt_ (the analyser rejects it). */
    static final String XID = "__pgt_xid";
    static final String ACTION = "__pgt_action";
    /** The order number of the row layout before catalog version 6, read only to upgrade such a buffer. */
    static final String CHANGE_ID = "__pgt_change_id";

    /** Installs capture on a source, or widens an existing installation to more columns. */
    public void ensureCapture(Connection conn, long relid, SourceKind kind, Set<String> columns) throws SQLException {
        Tracking existing = tracking(conn, relid);
        List<SourceColumn> sourceColumns = sourceColumns(conn, relid);
        if (existing == null) {
            String stable = stableName(conn, relid);
            String view = viewName(stable);
            String store = storeName(stable);
            List<SourceColumn> captured = select(sourceColumns, withOtherReaders(conn, relid, columns));
            createBuffer(conn, view, store, captured);
            writeFunction(conn, stable, store, captured);
            createTriggers(conn, relid, kind, stable);
            try (PreparedStatement ps = conn.prepareStatement("""
                    INSERT INTO pgtrickle.pgt_change_tracking
                        (source_relid, source_stable_name, buffer_table, buffer_store, captured_columns, captured_types)
                    VALUES (?, ?, ?, ?, ?, pgtrickle._column_types(?::oid, ?::text[]))""")) {
                Array names = conn.createArrayOf("text", captured.stream().map(SourceColumn::name).toArray());
                ps.setLong(1, relid);
                ps.setString(2, stable);
                ps.setString(3, view);
                ps.setString(4, store);
                ps.setArray(5, names);
                ps.setLong(6, relid);
                ps.setArray(7, names);
                ps.executeUpdate();
            }
            return;
        }
        Set<String> wanted = new LinkedHashSet<>(existing.columns());
        wanted.addAll(columns);
        List<SourceColumn> captured = select(sourceColumns, wanted);
        if (captured.size() == existing.columns().size()) {
            return;
        }
        String store = storeName(existing.stableName());
        try (Statement st = conn.createStatement()) {
            for (SourceColumn c : captured) {
                if (!existing.columns().contains(c.name())) {
                    st.execute("ALTER TABLE " + store + " ADD COLUMN " + Sql.quoteIdent(c.name()) + " " + BatchedBuffer.storedType(c));
                }
            }
        }
        storeUncompressed(conn, store);
        // The view's columns in the store's order: added columns come last, as CREATE OR REPLACE VIEW requires.
        replaceView(conn, viewName(existing.stableName()), store, inStoreOrder(conn, store, captured));
        writeFunction(conn, existing.stableName(), store, captured);
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE pgtrickle.pgt_change_tracking SET captured_columns = ?, captured_types = pgtrickle._column_types(?::oid, ?)"
                        + " WHERE source_relid = ?")) {
            Array names = conn.createArrayOf("text", captured.stream().map(SourceColumn::name).toArray());
            ps.setArray(1, names);
            ps.setLong(2, relid);
            ps.setArray(3, names);
            ps.setLong(4, relid);
            ps.executeUpdate();
        }
    }

    /**
     * The columns to capture for a new installation: {@code columns} and those of the source's other
     * readers. A source has readers without capture only after the DDL guard dropped it
     * ({@code pg_trickle.block_source_ddl = off}, pgtrickle._on_ddl_end); they are reinitialised on
     * their next refresh, as the changes made meanwhile were not captured.
     */
    private static Set<String> withOtherReaders(Connection conn, long relid, Set<String> columns) throws SQLException {
        Set<String> wanted = new LinkedHashSet<>(columns);
        // One statement: the scheduled readers are reinitialised, and one that left IMMEDIATE
        // meanwhile gets the frontier row it may lack (the rebuild sets it)
        wanted.addAll(Jdbc.queryStrings(conn, """
                WITH readers AS (
                    SELECT d.pgt_id, d.source_relid, d.columns_used, s.refresh_mode <> 'IMMEDIATE' AS scheduled
                      FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = d.pgt_id
                     WHERE d.source_relid = ?),
                reinit AS (
                    UPDATE pgtrickle.pgt_stream_tables t SET needs_reinit = true,
                           reinit_reason = 'change capture of ' || r.source_relid::regclass::text
                                           || ' installed again: changes made without it'
                      FROM readers r WHERE t.pgt_id = r.pgt_id AND r.scheduled),
                frontiers AS (
                    INSERT INTO pgtrickle.pgt_source_frontiers (pgt_id, source_relid)
                    SELECT r.pgt_id, r.source_relid FROM readers r WHERE r.scheduled
                    ON CONFLICT (pgt_id, source_relid) DO NOTHING)
                SELECT DISTINCT unnest(r.columns_used) FROM readers r""", relid));
        return wanted;
    }

    /** The view readers use: the buffer in row layout. */
    static String viewName(String stable) {
        return "pgtrickle_changes." + new Ident("changes_" + stable).quoted();
    }

    /** The table the capture function writes: the buffer's batches. */
    static String storeName(String stable) {
        return "pgtrickle_changes." + new Ident("batches_" + stable).quoted();
    }

    /**
     * Converts change buffers of the row layout (before catalog version 6) to batches, keeping
     * every pending change and every grant; returns how many it converted. Runs inside the install
     * transaction; each source is locked against writers while its buffer is converted.
     */
    public int upgradeBuffers(Connection conn) throws SQLException {
        List<Long> legacy = Jdbc.queryLongs(conn,
                "SELECT source_relid FROM pgtrickle.pgt_change_tracking WHERE buffer_store IS NULL ORDER BY source_relid");
        for (long relid : legacy) {
            upgradeBuffer(conn, relid, tracking(conn, relid));
        }
        return legacy.size();
    }

    private static void upgradeBuffer(Connection conn, long relid, Tracking t) throws SQLException {
        String view = viewName(t.stableName());
        String store = storeName(t.stableName());
        boolean sourceExists = Jdbc.queryBoolean(conn, "SELECT EXISTS (SELECT 1 FROM pg_class WHERE oid = ?::oid)", relid);
        Long legacyOid = Jdbc.queryOne(conn, Long.class, "SELECT to_regclass(?)::oid::bigint", view).orElse(null);
        // The legacy table's own columns and types (the source may have changed since), in its order.
        List<SourceColumn> columns = legacyOid == null ? List.of()
                : sourceColumns(conn, legacyOid).stream().filter(c -> !c.name().startsWith("__pgt_")).toList();
        try (Statement st = conn.createStatement()) {
            if (sourceExists) {
                st.execute("LOCK TABLE " + regclassText(conn, relid) + " IN SHARE ROW EXCLUSIVE MODE");
            }
            createStore(conn, store, columns);
            List<String> grantees = List.of();
            if (legacyOid != null) {
                grantees = readers(conn, view);
                st.execute(BatchedBuffer.insertBatchesOf(store, columns,
                        "(SELECT * FROM " + view + " WHERE " + ACTION + " IN ('I', 'D')) l", CHANGE_ID));
                st.execute("INSERT INTO " + store + " (" + XID + ", " + ACTION + ") SELECT " + XID + ", " + ACTION + " FROM "
                        + view + " WHERE " + ACTION + " NOT IN ('I', 'D')");
                st.execute("DROP TABLE " + view);
            }
            createView(conn, view, store, columns, grantees);
        }
        if (sourceExists) {
            writeFunction(conn, t.stableName(), store, columns);
        }
        try (PreparedStatement ps = conn.prepareStatement(
                "UPDATE pgtrickle.pgt_change_tracking SET buffer_table = ?, buffer_store = ? WHERE source_relid = ?")) {
            ps.setString(1, view);
            ps.setString(2, store);
            ps.setLong(3, relid);
            ps.executeUpdate();
        }
    }

    /**
     * Gives the views of buffers created before they carried their sources' collations those
     * collations (a comparison of a changed row was made under the database's default, so a
     * refresh could disagree with the defining query); returns how many views it rebuilt. The
     * DIFFERENTIAL stream tables reading such a source may hold rows refreshed that way: they are
     * marked for reinitialisation, which rebuilds them from their query at their next refresh.
     * Idempotent; every install runs it.
     */
    public int collateViews(Connection conn) throws SQLException {
        List<Long> sources = Jdbc.queryLongs(conn, """
                SELECT DISTINCT ct.source_relid FROM pgtrickle.pgt_change_tracking ct
                  JOIN pg_attribute v ON v.attrelid = to_regclass(ct.buffer_table) AND v.attnum > 0
                  JOIN pg_attribute s ON s.attrelid = ct.source_relid AND s.attname = v.attname
                                     AND s.attnum > 0 AND NOT s.attisdropped
                 WHERE ct.buffer_store IS NOT NULL AND to_regclass(ct.buffer_store) IS NOT NULL
                   AND v.atttypid = s.atttypid AND v.attcollation <> s.attcollation
                 ORDER BY ct.source_relid""");
        for (long relid : sources) {
            Tracking t = tracking(conn, relid);
            String store = storeName(t.stableName());
            List<SourceColumn> captured = select(sourceColumns(conn, relid), new LinkedHashSet<>(t.columns()));
            replaceView(conn, viewName(t.stableName()), store, inStoreOrder(conn, store, captured));
            reinitializeReaders(conn, relid, "were compared under the database's default collation");
        }
        return sources.size();
    }

    /**
     * Stores composite-typed columns (and those of a domain over a domain) as text, where buffers
     * created before did not: unnest() of several arrays expands a composite element into its
     * fields, so the view's later columns read the composite's fields (a stream table over the
     * column after it got the composite's second field). Converts the stored batches, rewrites the
     * view and the capture function, and marks the DIFFERENTIAL readers of the source for
     * reinitialisation; returns how many sources.
     * Idempotent; every install runs it.
     */
    public int storeCompositesAsText(Connection conn) throws SQLException {
        List<Long> sources = Jdbc.queryLongs(conn, """
                SELECT DISTINCT ct.source_relid FROM pgtrickle.pgt_change_tracking ct
                  JOIN pg_attribute a ON a.attrelid = to_regclass(ct.buffer_store) AND a.attnum > 0 AND NOT a.attisdropped
                  JOIN pg_type at ON at.oid = a.atttypid
                  JOIN pg_type et ON et.oid = at.typelem
                  JOIN pg_type bt ON bt.oid = CASE WHEN et.typtype = 'd' THEN et.typbasetype ELSE et.oid END
                 WHERE ct.buffer_store IS NOT NULL AND at.typcategory = 'A' AND bt.typtype IN ('c', 'd')
                   AND a.attname = ANY (ct.captured_columns)
                   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = ct.source_relid)
                 ORDER BY ct.source_relid""");
        for (long relid : sources) {
            Tracking t = tracking(conn, relid);
            String store = storeName(t.stableName());
            List<SourceColumn> captured = select(sourceColumns(conn, relid), new LinkedHashSet<>(t.columns()));
            String view = viewName(t.stableName());
            List<String> grantees;
            try (Statement st = conn.createStatement()) {
                st.execute("LOCK TABLE " + regclassText(conn, relid) + " IN SHARE ROW EXCLUSIVE MODE");
                grantees = dropView(conn, view);  // it depends on the columns' types
                // The stored text as the capture function writes it, then the install's own settings again.
                List<String> before = setOutputSettings(conn, List.copyOf(BatchedBuffer.PINNED.values()));
                for (SourceColumn c : captured) {
                    if (c.storedAsText() && !Jdbc.queryBoolean(conn, "SELECT atttypid = 'text[]'::regtype FROM pg_attribute"
                            + " WHERE attrelid = ?::regclass AND attname = ?", store, c.name())) {
                        st.execute("ALTER TABLE " + store + " ALTER COLUMN " + Sql.quoteIdent(c.name()) + " TYPE text[] USING "
                                + Sql.quoteIdent(c.name()) + "::text[]");
                    }
                }
                setOutputSettings(conn, before);
            }
            createView(conn, view, store, inStoreOrder(conn, store, captured), grantees);
            writeFunction(conn, t.stableName(), store, captured);
            reinitializeReaders(conn, relid, "were read with a composite column's fields in the place of later columns");
        }
        return sources.size();
    }

    /**
     * Rewrites the views of buffers that an earlier release made with {@code LEFT JOIN LATERAL} in
     * this release's form ({@link BatchedBuffer#createView}): the same rows, read faster. Each view
     * is rebuilt from its own columns (names, types, collations) over the store's arrays, not from
     * the source's columns now, which may have changed since (a column's type altered, or dropped,
     * after the buffer was made): CREATE OR REPLACE VIEW then never meets other columns. A view
     * that still cannot be replaced keeps its form (a savepoint undoes the attempt) and is left to
     * the next install. Returns how many views it rewrote; idempotent, every install runs it.
     */
    public int rewriteOutdatedViews(Connection conn) throws SQLException {
        List<String> stables = Jdbc.queryStrings(conn, """
                SELECT ct.source_stable_name FROM pgtrickle.pgt_change_tracking ct
                 WHERE ct.buffer_store IS NOT NULL AND to_regclass(ct.buffer_store) IS NOT NULL
                   AND to_regclass(ct.buffer_table) IS NOT NULL
                   AND strpos(pg_get_viewdef(to_regclass(ct.buffer_table)), ?) = 0
                 ORDER BY ct.source_relid""", BatchedBuffer.ROW_SOURCE);
        int rewritten = 0;
        for (String stable : stables) {
            String view = viewName(stable);
            String store = storeName(stable);
            long viewOid = Jdbc.queryOne(conn, Long.class, "SELECT to_regclass(?)::oid::bigint", view).orElseThrow();
            Set<String> textStored = new HashSet<>(Jdbc.queryStrings(conn, """
                    SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped
                       AND atttypid = 'text[]'::regtype""", store));
            List<SourceColumn> columns = sourceColumns(conn, viewOid).stream()
                    .filter(c -> !c.name().equals(XID) && !c.name().equals(ACTION))
                    .map(c -> new SourceColumn(c.name(), c.type(), false, textStored.contains(c.name()) && !c.type().equals("text"),
                            c.collation()))
                    .toList();
            Savepoint before = conn.getAutoCommit() ? null : conn.setSavepoint();
            try {
                replaceView(conn, view, store, columns);
                if (before != null) {
                    conn.releaseSavepoint(before);
                }
                rewritten++;
            } catch (SQLException e) {
                if (before == null) {
                    throw e;
                }
                conn.rollback(before);
                conn.releaseSavepoint(before);
                log.warn("Kept the earlier form of change buffer view {} (it reads the same rows, slower; the next install"
                        + " tries again): {} (SQLSTATE {})", view, e.getMessage(), e.getSQLState());
            }
        }
        return rewritten;
    }

    /** Marks the populated DIFFERENTIAL stream tables reading a source to be rebuilt from their query at their next refresh. */
    private static void reinitializeReaders(Connection conn, long relid, String what) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                UPDATE pgtrickle.pgt_stream_tables s
                   SET needs_reinit = true,
                       reinit_reason = 'changes of ' || ?::regclass::text || ' ' || ? || ' before this release; rebuilt once'
                 WHERE s.refresh_mode = 'DIFFERENTIAL' AND s.is_populated
                   AND s.pgt_id IN (SELECT d.pgt_id FROM pgtrickle.pgt_dependencies d WHERE d.source_relid = ?)""")) {
            ps.setLong(1, relid);
            ps.setString(2, what);
            ps.setLong(3, relid);
            ps.executeUpdate();
        }
    }

    /**
     * Replaces a buffer's view. CREATE OR REPLACE VIEW cannot change a column's collation, so a view
     * whose collations differ is dropped first and its grants given again.
     */
    private static void replaceView(Connection conn, String view, String store, List<SourceColumn> columns)
            throws SQLException {
        List<String> grantees = collationsMatch(conn, view, columns) ? List.of() : dropView(conn, view);
        createView(conn, view, store, columns, grantees);
    }

    /** Drops a view; returns who could read it ({@link #readers}). */
    private static List<String> dropView(Connection conn, String view) throws SQLException {
        List<String> readers = readers(conn, view);
        try (Statement st = conn.createStatement()) {
            st.execute("DROP VIEW IF EXISTS " + view);
        }
        return readers;
    }

    /** The roles other than its owner that may read a relation, quoted. */
    private static List<String> readers(Connection conn, String relation) throws SQLException {
        return Jdbc.queryStrings(conn, """
                SELECT DISTINCT quote_ident(r.rolname) FROM pg_class c, aclexplode(c.relacl) a
                  JOIN pg_roles r ON r.oid = a.grantee
                 WHERE c.oid = to_regclass(?) AND a.privilege_type = 'SELECT' AND a.grantee <> c.relowner""", relation);
    }

    /** Creates (or replaces) a buffer's view and lets {@code readers} read it. */
    private static void createView(Connection conn, String view, String store, List<SourceColumn> columns,
                                   List<String> readers) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(BatchedBuffer.createView(view, store, columns));
            for (String reader : readers) {
                st.execute("GRANT SELECT ON " + view + " TO " + reader);
            }
        }
    }

    /** Whether the view's columns have the collations {@code columns} want (read as the source's are). */
    private static boolean collationsMatch(Connection conn, String view, List<SourceColumn> columns) throws SQLException {
        Long viewOid = Jdbc.queryOne(conn, Long.class, "SELECT to_regclass(?)::oid::bigint", view).orElse(null);
        if (viewOid == null) {
            return true;
        }
        Map<String, String> actual = new HashMap<>();
        for (SourceColumn c : sourceColumns(conn, viewOid)) {
            actual.put(c.name(), String.valueOf(c.collation()));
        }
        return columns.stream().allMatch(c -> !actual.containsKey(c.name())
                || actual.get(c.name()).equals(String.valueOf(c.collation())));
    }

    /**
     * Sets DateStyle, IntervalStyle, extra_float_digits and bytea_output ({@link BatchedBuffer#PINNED}'s
     * order) for the rest of the transaction; returns their values before, to set back.
     */
    private static List<String> setOutputSettings(Connection conn, List<String> values) throws SQLException {
        String[] names = BatchedBuffer.PINNED.keySet().toArray(String[]::new);
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT current_setting(s.name), set_config(s.name, s.value, true)
                  FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS s(name, value, i) ORDER BY s.i""")) {
            ps.setArray(1, conn.createArrayOf("text", names));
            ps.setArray(2, conn.createArrayOf("text", values.toArray()));
            List<String> before = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    before.add(rs.getString(1));
                }
            }
            return before;
        }
    }

    /**
     * Indexes by writer xid the stores created before that index existed; returns how many.
     * Idempotent; every install runs it.
     */
    public int indexBuffers(Connection conn) throws SQLException {
        List<String> stores = Jdbc.queryStrings(conn, """
                SELECT ct.buffer_store FROM pgtrickle.pgt_change_tracking ct
                 WHERE ct.buffer_store IS NOT NULL AND to_regclass(ct.buffer_store) IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM pg_index i
                                     JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                    WHERE i.indrelid = to_regclass(ct.buffer_store) AND a.attname = ?)
                 ORDER BY ct.source_relid""", XID);
        try (Statement st = conn.createStatement()) {
            for (String store : stores) {
                st.execute(BatchedBuffer.createXidIndex(store));
            }
        }
        return stores.size();
    }

    /** What a capture function calls to wake the daemon; its absence marks a function written before it. */
    static final String WAKE_CALL = "pgtrickle._wake(";
    /**
     * The first line of a capture function's body: a source column named like one of PL/pgSQL's
     * own variables ({@code found}, {@code tg_op}, {@code new} ...) means the column. Its absence
     * marks a function under which writing such a source failed ("column reference is ambiguous").
     */
    static final String COLUMNS_WIN = "#variable_conflict use_column";

    /**
     * Rewrites the capture functions written by earlier releases (without the wake-up signal, or
     * without {@link #COLUMNS_WIN}); returns how many it rewrote. Idempotent; every install runs it.
     */
    public int rewriteOutdatedFunctions(Connection conn) throws SQLException {
        List<Long> outdated = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT ct.source_relid FROM pgtrickle.pgt_change_tracking ct
                  JOIN pg_proc p ON p.proname = 'capture_' || ct.source_stable_name
                  JOIN pg_namespace n ON n.oid = p.pronamespace AND n.nspname = 'pgtrickle_changes'
                 WHERE strpos(p.prosrc, ?) = 0 OR strpos(p.prosrc, ?) = 0
                 ORDER BY ct.source_relid""")) {
            ps.setString(1, WAKE_CALL);
            ps.setString(2, COLUMNS_WIN);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    outdated.add(rs.getLong(1));
                }
            }
        }
        for (long relid : outdated) {
            Tracking t = tracking(conn, relid);
            List<SourceColumn> captured = select(sourceColumns(conn, relid), new LinkedHashSet<>(t.columns()));
            writeFunction(conn, t.stableName(), storeName(t.stableName()), captured);
        }
        return outdated.size();
    }

    /** Removes capture from a source that no stream table reads any more. */
    public void dropCaptureIfUnused(Connection conn, long relid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("SELECT pgtrickle._drop_capture_if_unused(?::oid)")) {
            ps.setLong(1, relid);
            ps.executeQuery().close();
        }
    }

    record Tracking(String stableName, List<String> columns) {
    }

    /**
     * A source column: its name, type, whether it is in the primary key, whether the buffer stores
     * it as text (array and composite types; see {@link BatchedBuffer}), and its collation
     * (qualified and quoted) when it is not its type's default, else null. Readers net changed rows by value only where
     * every column's collation is deterministic (equal values are equal bytes), else by their text
     * in "C" (PgResolver's valueEqual), so a nondeterministic collation never nets 'a' against 'A'.
     */
    record SourceColumn(String name, String type, boolean inPrimaryKey, boolean storedAsText, String collation) {
    }

    private static Tracking tracking(Connection conn, long relid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT source_stable_name, captured_columns FROM pgtrickle.pgt_change_tracking WHERE source_relid = ?")) {
            ps.setLong(1, relid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                Array a = rs.getArray(2);
                return new Tracking(rs.getString(1), List.of((String[]) a.getArray()));
            }
        }
    }

    /** Columns of the source in attribute order, with the primary key's columns always included. */
    private static List<SourceColumn> sourceColumns(Connection conn, long relid) throws SQLException {
        List<SourceColumn> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                       coalesce(a.attnum = ANY (i.indkey), false) AS in_pk,
                       coalesce(b.typcategory = 'A' OR b.typarray = 0 OR b.typtype IN ('c', 'd'), true) AS as_text,
                       CASE WHEN a.attcollation <> t.typcollation
                            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation
                  FROM pg_attribute a
                  LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
                  LEFT JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
                  LEFT JOIN pg_collation co ON co.oid = a.attcollation
                  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setLong(1, relid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new SourceColumn(rs.getString(1), rs.getString(2), rs.getBoolean(3), rs.getBoolean(4),
                            rs.getString(5)));
                }
            }
        }
        return out;
    }

    /** The wanted columns plus the primary key (row identity of the later delta), in attribute order. */
    private static List<SourceColumn> select(List<SourceColumn> all, Set<String> wanted) {
        return all.stream().filter(c -> c.inPrimaryKey() || wanted.contains(c.name())).toList();
    }

    private static void createBuffer(Connection conn, String view, String store, List<SourceColumn> columns)
            throws SQLException {
        createStore(conn, store, columns);
        try (Statement st = conn.createStatement()) {
            st.execute(BatchedBuffer.createView(view, store, columns));
        }
    }

    private static void createStore(Connection conn, String store, List<SourceColumn> columns) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute(BatchedBuffer.createStore(store, columns));
            st.execute(BatchedBuffer.createXidIndex(store));
            st.execute("ALTER TABLE " + store + " DISABLE ROW LEVEL SECURITY");
        }
        storeUncompressed(conn, store);
    }

    /** The store's arrays of fixed-width types uncompressed (routines.sql, _buffer_storage); returns how many columns changed. */
    private static int storeUncompressed(Connection conn, String store) throws SQLException {
        return Jdbc.queryOne(conn, Integer.class, "SELECT pgtrickle._buffer_storage(?)", store).orElse(0);
    }

    /**
     * Stores uncompressed the fixed-width arrays of the stores created before that was done;
     * returns how many stores changed. Idempotent; every install runs it.
     */
    public int storeBuffersUncompressed(Connection conn) throws SQLException {
        // one statement over every store, as the install brings their routines up to date
        return Jdbc.queryOne(conn, Integer.class, """
                SELECT count(*) FILTER (WHERE pgtrickle._buffer_storage(buffer_store) > 0)::int
                  FROM (SELECT buffer_store FROM pgtrickle.pgt_change_tracking
                         WHERE buffer_store IS NOT NULL AND to_regclass(buffer_store) IS NOT NULL
                         ORDER BY source_relid) s""").orElse(0);
    }

    /** {@code captured} ordered as the store's columns (added columns last). */
    private static List<SourceColumn> inStoreOrder(Connection conn, String store, List<SourceColumn> captured)
            throws SQLException {
        List<String> order = Jdbc.queryStrings(conn, "SELECT attname::text FROM pg_attribute "
                + "WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", store);
        return order.stream().flatMap(n -> captured.stream().filter(c -> c.name().equals(n))).toList();
    }

    /**
     * The capture function. SECURITY DEFINER with a pinned search path: it runs with the rights of
     * whoever installed pg_trickle, so users who may write a source need no rights on the buffer.
     */
    static void writeFunction(Connection conn, String stable, String store, List<SourceColumn> columns)
            throws SQLException {
        String lostFlag = Sql.literal("pg_trickle.capture_lost_" + stable);
        // Every path that writes the buffer ends with one wake-up signal (pgtrickle._wake).
        String body = COLUMNS_WIN + """

                BEGIN
                    IF NOT pgtrickle._capture_enabled() THEN
                        -- Capture is off: record once per transaction that this buffer is incomplete.
                        IF current_setting(%1$s, true) IS DISTINCT FROM 'on' THEN
                            INSERT INTO %2$s (%3$s) VALUES ('P');
                            PERFORM set_config(%1$s, 'on', true);
                            PERFORM pgtrickle._wake(%4$s);
                        END IF;
                        RETURN NULL;
                    END IF;
                    IF TG_OP = 'INSERT' THEN
                        %5$s;
                    ELSIF TG_OP = 'UPDATE' THEN
                        %6$s;
                        %5$s;
                    ELSIF TG_OP = 'DELETE' THEN
                        %6$s;
                    ELSIF TG_OP = 'TRUNCATE' THEN
                        INSERT INTO %2$s (%3$s) VALUES ('T');
                    END IF;
                    PERFORM pgtrickle._wake(%4$s);
                    RETURN NULL;
                END
                """.formatted(lostFlag, store, ACTION, Sql.literal(stable),
                BatchedBuffer.insertBatches(store, columns, "__pgt_new", 'I'),
                BatchedBuffer.insertBatches(store, columns, "__pgt_old", 'D'));
        // Array values are stored as text: pin the settings their text depends on.
        String settings = columns.stream().anyMatch(SourceColumn::storedAsText) ? " " + BatchedBuffer.PINNED_SETTINGS : "";
        try (Statement st = conn.createStatement()) {
            st.execute("CREATE OR REPLACE FUNCTION pgtrickle_changes." + Sql.quoteIdent("capture_" + stable) + "()\n"
                    + "RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp" + settings
                    + " AS " + dollarQuote(body));
        }
    }

    private static void createTriggers(Connection conn, long relid, SourceKind kind, String stable) throws SQLException {
        String function = "pgtrickle_changes." + Sql.quoteIdent("capture_" + stable) + "()";
        try (Statement st = conn.createStatement()) {
            for (long target : triggerTargets(conn, relid)) {
                String table = regclassText(conn, target);
                st.execute("CREATE TRIGGER " + Sql.quoteIdent("pgt_capture_ins_" + stable) + " AFTER INSERT ON " + table
                        + " REFERENCING NEW TABLE AS __pgt_new FOR EACH STATEMENT EXECUTE FUNCTION " + function);
                st.execute("CREATE TRIGGER " + Sql.quoteIdent("pgt_capture_upd_" + stable) + " AFTER UPDATE ON " + table
                        + " REFERENCING OLD TABLE AS __pgt_old NEW TABLE AS __pgt_new FOR EACH STATEMENT EXECUTE FUNCTION "
                        + function);
                st.execute("CREATE TRIGGER " + Sql.quoteIdent("pgt_capture_del_" + stable) + " AFTER DELETE ON " + table
                        + " REFERENCING OLD TABLE AS __pgt_old FOR EACH STATEMENT EXECUTE FUNCTION " + function);
                st.execute("CREATE TRIGGER " + Sql.quoteIdent("pgt_capture_trunc_" + stable) + " AFTER TRUNCATE ON " + table
                        + " FOR EACH STATEMENT EXECUTE FUNCTION " + function);
            }
        }
    }

    /**
     * The source and, for a partitioned table, every leaf partition: statement triggers fire only
     * on the table a statement names, so DML aimed at a partition directly needs its own triggers.
     */
    static List<Long> triggerTargets(Connection conn, long relid) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT relid::oid FROM pg_partition_tree(?::oid::regclass) t
                  JOIN pg_class c ON c.oid = t.relid
                 WHERE t.relid::oid = ?::oid OR (t.isleaf AND c.relkind = 'r')
                UNION
                SELECT c.oid FROM pg_class c WHERE c.oid = ?::oid""")) {
            ps.setLong(1, relid);
            ps.setLong(2, relid);
            ps.setLong(3, relid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getLong(1));
                }
            }
        }
        return out;
    }

    private static String regclassText(Connection conn, long relid) throws SQLException {
        return Jdbc.queryOne(conn, String.class, "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) "
                        + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?", relid)
                .orElseThrow(() -> new SQLException("relation " + relid + " does not exist", "42P01"));
    }

    /**
     * A 16-hex name derived from "schema.table", stable across dump and restore (unlike the OID);
     * falls back to adding the OID if another source already holds it (a dropped and recreated table).
     */
    static String stableName(Connection conn, long relid) throws SQLException {
        String qualified = Jdbc.queryOne(conn, String.class, "SELECT n.nspname || '.' || c.relname FROM pg_class c "
                + "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = ?", relid).orElseThrow();
        String candidate = sha256Hex(qualified).substring(0, 16);
        boolean taken = Jdbc.queryBoolean(conn,
                "SELECT EXISTS (SELECT 1 FROM pgtrickle.pgt_change_tracking WHERE source_stable_name = ?)", candidate);
        return taken ? candidate + "_" + relid : candidate;
    }

    private static String sha256Hex(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /** A dollar quote whose tag does not occur in the body. */
    static String dollarQuote(String body) {
        String tag = "$pgt$";
        int n = 0;
        while (body.contains(tag)) {
            tag = "$pgt" + (++n) + "$";
        }
        return tag + body + tag;
    }
}
