package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.CreateResult.Outcome;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.catalog.StreamTableCatalog;
import io.pgtrickle.core.cdc.ChangeCapture;
import io.pgtrickle.core.dvm.plan.CompiledQuery;
import io.pgtrickle.core.dvm.plan.QueryCompiler;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.QueryAnalyzer;
import io.pgtrickle.core.sql.ResolvedQuery;
import io.pgtrickle.core.sql.ResolvedQuery.OutputColumn;
import io.pgtrickle.core.sql.ResolvedQuery.SourceRelation;
import io.pgtrickle.core.sql.Sql;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Creates stream tables, and replaces their definitions, inside the caller's transaction:
 * any failure rolls back the storage table, triggers, buffers and catalog rows together.
 */
public final class StreamTableCreator {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(StreamTableCreator.class);
    /** What to do when the name is taken by a stream table already. */
    public enum OnExists { FAIL, KEEP, REPLACE }

    private final QueryAnalyzer analyzer = new QueryAnalyzer();
    private final ChangeCapture capture = new ChangeCapture();
    private final StreamTableCatalog catalog = new StreamTableCatalog();
    private final StreamTableAlterer alterer = new StreamTableAlterer();

    /**
     * Whom a create is for: a role (null: the connection's current role) and the search path its
     * query's names are looked up in (null: the session's).
     */
    public record Requester(String role, String searchPath) {
        public static final Requester SELF = new Requester(null, null);
    }

    public CreateResult create(Connection conn, CreateOptions o, OnExists onExists) throws SQLException {
        return create(conn, o, onExists, Requester.SELF);
    }

    /**
     * Creates on behalf of {@code requester}, with its rights: it must be able to create tables in
     * the schema and read every source, and it owns the stream table created. The connection's
     * role does the rest (capture on the sources).
     */
    public CreateResult create(Connection conn, CreateOptions o, OnExists onExists, Requester requester) throws SQLException {
        QualifiedName name = QualifiedName.parse(o.name());
        Schedule schedule = Schedule.parse(o.schedule());
        QualifiedName qualified = name.withSchema(targetSchema(conn, name));
        String role = requester.role() != null ? requester.role()
                : Jdbc.queryOne(conn, String.class, "SELECT current_user::text").orElseThrow();
        Optional<StreamTableInfo> existing = catalog.find(conn, qualified);
        if (existing.isPresent()) {
            return switch (onExists) {
                case FAIL -> throw new PgtException(ErrorCode.ALREADY_EXISTS,
                        "stream table " + qualified.display() + " already exists",
                        "Use create_or_replace to change it, or create_if_not_exists to keep it.");
                case KEEP -> new CreateResult(existing.get(), Outcome.UNCHANGED,
                        List.of("stream table " + qualified.display() + " already exists; left unchanged"));
                case REPLACE -> replace(conn, existing.get(), o, schedule, role, requester.searchPath());
            };
        }
        requireNameFree(conn, qualified);
        requireCreateInSchema(conn, qualified, role);
        ResolvedQuery query = analyzer.analyze(conn, o.query(), requester.searchPath());
        requireReadable(conn, query.sources(), role);
        lockSources(conn, query.sources());
        installCapture(conn, query.sources());
        Compilation c = compile(conn, qualified, query, o.refreshMode());
        long relid = StorageTable.create(conn, qualified, c.query().storageColumns(), c.query().shape(), c.query().findsRowsByContent());
        c = validated(conn, qualified, query, o.refreshMode(), c);
        long id = insertCatalogRow(conn, qualified, relid, query, o, schedule, c);
        writeDependencies(conn, id, query);
        grantToOwner(conn, id, qualified, role);
        compileImmediate(conn, qualified, query, id, c);
        List<String> notices = new ArrayList<>(c.notices());
        if (c.mode() == RefreshMode.IMMEDIATE) {
            if (!o.initialize()) {
                notices.add("stream table " + qualified.display() + " is IMMEDIATE: populated now, as it must be exact from the start");
            }
            initialRefresh(conn, id);
            Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._ivm_install(?)::text", id);
        } else {
            syncCapture(conn, id);
            if (o.initialize()) {
                initialRefresh(conn, id);
            }
        }
        return new CreateResult(catalog.byId(conn, id), Outcome.CREATED, notices);
    }

    /** create_or_replace on an existing stream table: no-op, alter, or a new query with a full refresh. */
    private CreateResult replace(Connection conn, StreamTableInfo st, CreateOptions o, Schedule schedule, String role,
                                 String searchPath) throws SQLException {
        QualifiedName qualified = QualifiedName.of(st.schema(), st.name());
        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._require_owner(?, 'replace', ?::name)::text", st.id(), role);
        String owner = Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._owner(?)::text", st.id()).orElse(role);
        ResolvedQuery query = analyzer.analyze(conn, o.query(), searchPath);
        requireReadable(conn, query.sources(), owner);
        lockSources(conn, query.sources());
        installCapture(conn, query.sources());
        Compilation c = compile(conn, qualified, query, o.refreshMode());
        List<String> notices = new ArrayList<>(c.notices());
        boolean sameQuery = query.canonicalQuery().equals(st.definingQuery());
        if (sameQuery) {
            RefreshMode kept = keptMode(conn, st, qualified, query, o.refreshMode(), c, notices);
            if (kept != null) {
                boolean sameConfig = java.util.Objects.equals(schedule.catalogText(), st.schedule()) && kept == st.refreshMode();
                if (sameConfig) {
                    notices.add("stream table " + st.qualifiedName() + " already has this definition; nothing changed");
                    return new CreateResult(st, Outcome.UNCHANGED, notices);
                }
                alterer.alter(conn, st, new AlterOptions(o.schedule(), o.refreshMode(), null));
                return new CreateResult(catalog.byId(conn, st.id()), Outcome.ALTERED, notices);
            }
            // An earlier engine's SQL (which may hold a since-fixed bug), or new keys or indexes on
            // the sources: replaced like a new query.
            notices.add("stream table " + st.qualifiedName() + " compiles differently now (a newer version of the engine,"
                    + " or other keys or indexes on its sources): its query is compiled again and it is repopulated");
        }
        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._ivm_uninstall(?)::text", st.id());
        Set<Long> newStInputs = new HashSet<>();
        for (SourceRelation s : query.sources()) {
            if (s.kind() == ResolvedQuery.SourceKind.STREAM_TABLE) {
                newStInputs.add(streamTableIdOf(conn, s.relid()));
            }
        }
        Map<Long, List<Long>> edges = catalog.upstreamEdges(conn);
        CycleCheck.check(st.id(), newStInputs, edges, id -> displayName(conn, id));
        long relid = catalog.relid(conn, st.id());
        if (!StorageTable.columnSignature(conn, relid).equals(StorageTable.columnSignature(c.query().storageColumns()))) {
            List<StreamTableInfo> readers = catalog.downstream(conn, st.id());
            if (!readers.isEmpty()) {
                throw new PgtException(ErrorCode.DEPENDENT_OBJECTS_EXIST,
                        "cannot change the columns of " + st.qualifiedName() + ": stream tables "
                                + readers.stream().map(StreamTableInfo::qualifiedName).collect(Collectors.joining(", "))
                                + " read it",
                        "Keep the output columns and their types, or drop the reading stream tables first.");
            }
            capture.dropCaptureIfUnused(conn, relid);
            try (Statement s = conn.createStatement()) {
                s.execute("DROP TABLE " + qualified.quoted());
            }
            relid = StorageTable.create(conn, qualified, c.query().storageColumns(), c.query().shape(), c.query().findsRowsByContent());
            notices.add("the output columns changed: " + st.qualifiedName() + " was rebuilt as a new table");
        } else {
            StorageTable.syncContentIndex(conn, qualified, relid, c.query().findsRowsByContent());
        }
        c = validated(conn, qualified, query, o.refreshMode(), c);
        List<Long> oldSources = sourceRelids(conn, st.id());
        try (PreparedStatement ps = conn.prepareStatement("""
                UPDATE pgtrickle.pgt_stream_tables
                   SET defining_query = ?, original_query = ?, pgt_relid = ?, schedule = ?, refresh_mode = ?,
                       requested_refresh_mode = ?, full_sql = ?, full_apply_sql = ?,
                       functions_used = ?, needs_reinit = true, reinit_reason = ?,
                       recent_diff_costs = '{}',
                       storage_shape = ?, diff_apply_sql = ?, unsupported_reason = ?, explain_text = ?,
                       explain_json = ?::jsonb, explain_dot = ?, updated_at = now(), columns = """ + COLUMNS_JSON + """
                 WHERE pgt_id = ?""")) {
            ps.setString(1, query.canonicalQuery());
            ps.setString(2, o.query());
            ps.setLong(3, relid);
            ps.setString(4, c.mode() == RefreshMode.IMMEDIATE ? null : schedule.catalogText());
            ps.setString(5, c.mode().name());
            ps.setString(6, o.refreshMode().name());
            ps.setString(7, c.query().fullSql());
            ps.setString(8, c.fullApplySql());
            ps.setArray(9, conn.createArrayOf("text", query.functionsUsed().toArray()));
            ps.setString(10, sameQuery ? "the defining query compiles differently now" : "the defining query changed");
            int next = bindCompiled(ps, 11, c);
            next = bindColumns(conn, ps, next, query.columns());
            ps.setLong(next, st.id());
            ps.executeUpdate();
        }
        Jdbc.update(conn, "DELETE FROM pgtrickle.pgt_dependencies WHERE pgt_id = ?", st.id());
        Jdbc.update(conn, "DELETE FROM pgtrickle.pgt_source_frontiers WHERE pgt_id = ?", st.id());
        writeDependencies(conn, st.id(), query);
        grantToOwner(conn, st.id(), qualified, owner);
        compileImmediate(conn, qualified, query, st.id(), c);
        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._revoke_buffers(?::name, ?::oid[])::text", owner,
                conn.createArrayOf("bigint", oldSources.toArray()));
        for (long old : oldSources) {
            capture.dropCaptureIfUnused(conn, old);
            Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._sync_capture(?::oid)::text", old);
        }
        if (c.mode() != RefreshMode.IMMEDIATE) {
            syncCapture(conn, st.id());
        }
        initialRefresh(conn, st.id());
        if (c.mode() == RefreshMode.IMMEDIATE) {
            Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._ivm_install(?)::text", st.id());
        }
        return new CreateResult(catalog.byId(conn, st.id()), Outcome.REPLACED, notices);
    }

    /** Installs change capture on every capturable source: the differential SQL reads their buffers. */
    private void installCapture(Connection conn, List<SourceRelation> sources) throws SQLException {
        for (SourceRelation s : sources) {
            if (s.kind().capturable()) {
                capture.ensureCapture(conn, s.relid(), s.kind(), Set.copyOf(s.columnsUsed()));
            }
        }
    }

    private Compilation compile(Connection conn, QualifiedName table, ResolvedQuery query, RefreshMode requested)
            throws SQLException {
        return compile(conn, table, query, requested, true);
    }

    private Compilation compile(Connection conn, QualifiedName table, ResolvedQuery query, RefreshMode requested,
                                boolean limitsCorrelatedReads) throws SQLException {
        QueryCompiler compiler = new QueryCompiler(new PgResolver(conn, query, limitsCorrelatedReads),
                relid -> bufferTable(conn, relid), true);
        CompiledQuery compiled = compiler.compile(conn, table, query);
        return Compilation.of(table, compiled, ModeResolution.resolve(table.display(), requested, compiled, query),
                serverVersion(conn), limitsCorrelatedReads);
    }

    /**
     * For the same query compiled now ({@code c}): the mode it refreshes in when the stream table
     * keeps its compiled statements, or null when the query is to be compiled again. Kept: the
     * catalog holds the same statements (as compiled, or as validated: a statement that did not plan
     * was stored as its fallback), the IMMEDIATE one included; and, with a notice, statements that would need a new storage
     * table (other hidden columns: replacing the table would take its grants, indexes and the views
     * on it) or whose differential statement does not plan where the stored one does.
     */
    private RefreshMode keptMode(Connection conn, StreamTableInfo st, QualifiedName qualified, ResolvedQuery query,
                                 RefreshMode requested, Compilation c, List<String> notices) throws SQLException {
        StoredStatements stored = StoredStatements.read(conn, st.id());
        if (stored.hold(c)) {
            return asCompiledNow(conn, qualified, query, st.id(), c, stored.immediate()) ? c.mode() : null;
        }
        RefreshMode asStored = requested == RefreshMode.AUTO ? st.refreshMode() : requested;
        if (!StorageTable.columnSignature(conn, catalog.relid(conn, st.id()))
                .equals(StorageTable.columnSignature(c.query().storageColumns()))) {
            notices.add("stream table " + st.qualifiedName() + " compiles differently now, with other hidden columns, and keeps"
                    + " its compiled SQL: using the new one needs a new storage table (drop the stream table and create it again)");
            return asStored;
        }
        Compilation v = validated(conn, qualified, query, requested, c);
        if (stored.hold(v)) {
            return asCompiledNow(conn, qualified, query, st.id(), v, stored.immediate()) ? v.mode() : null;
        }
        if (v.diffApplySql() == null && c.diffApplySql() != null && stored.differential() != null) {
            notices.add("stream table " + st.qualifiedName() + " compiles differently now, but its new differential statement"
                    + " does not plan; it keeps its compiled SQL");
            return asStored;
        }
        return null;
    }

    /**
     * Whether the stored statements, FULL and DIFFERENTIAL equal to {@code c}'s, are all what the
     * query compiles to now; if so, the keys they rely on are the sources' keys now (a key the SQL
     * never used may have changed).
     */
    private static boolean asCompiledNow(Connection conn, QualifiedName table, ResolvedQuery query, long id, Compilation c,
                                         String storedImmediate) throws SQLException {
        if (!immediateAsStored(conn, table, query, id, c, storedImmediate)) {
            return false;
        }
        recordKeys(conn, id, query);
        return true;
    }

    /** The apply statements the catalog holds for a stream table: FULL, DIFFERENTIAL and IMMEDIATE (null: none). */
    private record StoredStatements(String full, String differential, String immediate) {
        static StoredStatements read(Connection conn, long id) throws SQLException {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT full_apply_sql, diff_apply_sql, ivm_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?")) {
                ps.setLong(1, id);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return new StoredStatements(rs.getString(1), rs.getString(2), rs.getString(3));
                }
            }
        }

        /** Whether these are the FULL and DIFFERENTIAL statements {@code c} compiled. */
        boolean hold(Compilation c) {
            return java.util.Objects.equals(full, c.fullApplySql()) && java.util.Objects.equals(differential, c.diffApplySql());
        }
    }

    /**
     * Plans the differential statement once against the real storage table: if PostgreSQL cannot
     * plan it, the engine has a bug, and the stream table falls back to FULL (or, for an explicit
     * DIFFERENTIAL, creation fails) instead of failing at its first refresh.
     */
    private Compilation validated(Connection conn, QualifiedName table, ResolvedQuery query, RefreshMode requested,
                                  Compilation c) throws SQLException {
        if (c.diffApplySql() == null) {
            return c;
        }
        try (Statement st = conn.createStatement()) {
            st.execute("SAVEPOINT pgt_validate");
            try {
                st.execute("PREPARE pgt_validate_diff(pg_snapshot, pg_snapshot, oid[]) AS " + c.diffApplySql());
                st.execute("DEALLOCATE pgt_validate_diff");
                st.execute("RELEASE SAVEPOINT pgt_validate");
                return c;
            } catch (SQLException e) {
                st.execute("ROLLBACK TO SAVEPOINT pgt_validate");
                if (c.limitsCorrelatedReads()) {
                    Compilation unlimited = compile(conn, table, query, requested, false);
                    if (!java.util.Objects.equals(unlimited.diffApplySql(), c.diffApplySql())) {
                        log.debug("differential SQL for {} compiled again without limiting correlated reads: {}",
                                table.display(), e.getMessage());
                        return validated(conn, table, query, requested, unlimited);
                    }
                }
                log.warn("generated differential SQL for {} does not plan: {}", table.display(), e.getMessage());
                CompiledQuery fallback = c.query().withoutDifferential(
                        "internal: the generated differential SQL failed to plan (" + e.getMessage().lines().findFirst().orElse("") + ")");
                return Compilation.of(table, fallback, ModeResolution.resolve(table.display(), requested, fallback, query),
                        serverVersion(conn), c.limitsCorrelatedReads());
            }
        }
    }

    /**
     * Compiles the differential SQL a second time, over the session tables IMMEDIATE maintenance
     * fills from transition tables ({@code pg_temp.pgt_ivm_<id>_<relid>}), and chooses its lock;
     * stored for every stream table DIFFERENTIAL can maintain, so alter can switch to IMMEDIATE.
     */
    private void compileImmediate(Connection conn, QualifiedName table, ResolvedQuery query, long id, Compilation c)
            throws SQLException {
        String sql = null;
        ImmediateLock lock = null;
        CompiledQuery q = immediateQuery(conn, table, query, id, c);
        if (q != null) {
            sql = q.differentialApplySql(table, serverVersion(conn));
            sql = plans(conn, id, query, sql) ? sql : null;
            lock = ImmediateLock.choose(conn, q);
        }
        if (sql == null && c.mode() == RefreshMode.IMMEDIATE) {
            throw PgtException.internal("the IMMEDIATE maintenance SQL of " + table.display() + " could not be compiled", null);
        }
        String explain = sql == null ? "IMMEDIATE maintenance: not possible"
                : "IMMEDIATE maintenance: lock " + lock.mode() + (lock.reason() == null ? "" : " (" + lock.reason() + ")");
        Jdbc.update(conn, "UPDATE pgtrickle.pgt_stream_tables SET ivm_apply_sql = ?, ivm_lock_mode = ?, ivm_lock_reason = ?, "
                + "explain_text = explain_text || E'\\n' || ? WHERE pgt_id = ?",
                sql, lock == null ? null : lock.mode(), lock == null ? null : lock.reason(), explain, id);
    }

    /** The query compiled for IMMEDIATE maintenance (from transition tables), or null when it is not maintainable. */
    private static CompiledQuery immediateQuery(Connection conn, QualifiedName table, ResolvedQuery query, long id, Compilation c)
            throws SQLException {
        if (c.diffApplySql() == null) {
            return null;
        }
        // $3: the sources the statement changed (one, but for cascades), so the terms of the others leave the plan;
        // correlated reads limited as in the differential SQL, which was planned (validated)
        QueryCompiler compiler = new QueryCompiler(new PgResolver(conn, query, c.limitsCorrelatedReads()),
                relid -> "pg_temp." + Sql.quoteIdent("pgt_ivm_" + id + "_" + relid), true);
        CompiledQuery q = compiler.compile(conn, table, query);
        return q.differential() ? q : null;
    }

    /**
     * Whether the IMMEDIATE statement the catalog holds ({@code stored}) is the one {@code c} gives
     * now, or one that would be no better: the new one does not plan (a stream table compiled by a
     * release without IMMEDIATE maintenance for its query gets it from create_or_replace).
     */
    private static boolean immediateAsStored(Connection conn, QualifiedName table, ResolvedQuery query, long id, Compilation c,
                                             String stored) throws SQLException {
        CompiledQuery q = immediateQuery(conn, table, query, id, c);
        String now = q == null ? null : q.differentialApplySql(table, serverVersion(conn));
        return java.util.Objects.equals(now, stored) || now == null || !plans(conn, id, query, now);
    }

    /** Whether PostgreSQL plans the IMMEDIATE SQL; its session tables exist only inside the check. */
    private static boolean plans(Connection conn, long id, ResolvedQuery query, String sql) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("SAVEPOINT pgt_validate_ivm");
            try {
                for (SourceRelation s : query.sources()) {
                    if (s.kind().capturable()) {
                        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._ivm_temp_table(?, ?::oid)", id, s.relid());
                    }
                }
                st.execute("PREPARE pgt_validate_ivm(pg_snapshot, pg_snapshot, oid[]) AS " + sql);
                st.execute("DEALLOCATE pgt_validate_ivm");
                return true;
            } catch (SQLException e) {
                log.warn("generated IMMEDIATE SQL does not plan: {}", e.getMessage());
                return false;
            } finally {
                st.execute("ROLLBACK TO SAVEPOINT pgt_validate_ivm");
            }
        }
    }

    /** Capture into change buffers runs while a scheduled stream table reads the source (pgtrickle._sync_capture). */
    private static void syncCapture(Connection conn, long id) throws SQLException {
        for (long source : sourceRelids(conn, id)) {
            Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._sync_capture(?::oid)::text", source);
        }
    }

    private static int serverVersion(Connection conn) throws SQLException {
        return (int) Jdbc.queryLong(conn, "SELECT current_setting('server_version_num')::bigint");
    }

    private static String bufferTable(Connection conn, long relid) {
        try {
            return Jdbc.queryOne(conn, String.class,
                    "SELECT buffer_table FROM pgtrickle.pgt_change_tracking WHERE source_relid = ?", relid).orElseThrow();
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "looking up the change buffer of relation " + relid);
        }
    }

    private static int bindCompiled(PreparedStatement ps, int index, Compilation c) throws SQLException {
        ps.setString(index, c.query().shape().name());
        ps.setString(index + 1, c.diffApplySql());
        ps.setString(index + 2, c.query().unsupported());
        ps.setString(index + 3, c.explainText());
        ps.setString(index + 4, c.explainJson());
        ps.setString(index + 5, c.explainDot());
        return index + 6;
    }

    private void writeDependencies(Connection conn, long id, ResolvedQuery query) throws SQLException {
        List<SourceRelation> sources = query.sources();
        try (PreparedStatement dep = conn.prepareStatement("""
                INSERT INTO pgtrickle.pgt_dependencies
                    (pgt_id, source_relid, source_type, source_schema, source_name, columns_used, cdc_mode, via_view_only,
                     column_types)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, pgtrickle._column_types(?::oid, ?::text[]))""");
             PreparedStatement frontier = conn.prepareStatement(
                     "INSERT INTO pgtrickle.pgt_source_frontiers (pgt_id, source_relid) VALUES (?, ?)")) {
            for (SourceRelation s : sources) {
                dep.setLong(1, id);
                dep.setLong(2, s.relid());
                dep.setString(3, s.kind().catalogType());
                dep.setString(4, s.schema());
                dep.setString(5, s.name());
                Array used = conn.createArrayOf("text", s.columnsUsed().toArray());
                dep.setArray(6, used);
                dep.setString(7, s.kind().capturable() ? "TRIGGER" : "NONE");
                dep.setBoolean(8, s.viaViewOnly());
                dep.setLong(9, s.relid());
                dep.setArray(10, used);
                dep.executeUpdate();
                if (s.kind().capturable()) {
                    frontier.setLong(1, id);
                    frontier.setLong(2, s.relid());
                    frontier.executeUpdate();
                }
            }
        }
        recordKeys(conn, id, query);
    }

    /**
     * Records the keys the stream table's SQL is compiled against now ({@link PgResolver#keyOf}:
     * pgt_dependencies.primary_key and its constraint, which a refresh checks), and whether a source
     * table has no primary key at all (has_keyless_source).
     */
    private static void recordKeys(Connection conn, long id, ResolvedQuery query) throws SQLException {
        PgResolver resolver = new PgResolver(conn, query, false);
        try (PreparedStatement ps = conn.prepareStatement("""
                UPDATE pgtrickle.pgt_dependencies
                   SET primary_key = ?, primary_key_constraint = CASE WHEN ? THEN pgtrickle._primary_key_constraint(source_relid) END
                 WHERE pgt_id = ? AND source_relid = ?""")) {
            for (SourceRelation s : query.sources()) {
                List<String> key = resolver.keyOf(s.relid(), s.kind().capturable());
                ps.setArray(1, key.isEmpty() ? null : conn.createArrayOf("text", key.toArray()));
                ps.setBoolean(2, !key.isEmpty());
                ps.setLong(3, id);
                ps.setLong(4, s.relid());
                ps.addBatch();
            }
            ps.executeBatch();
        }
        Jdbc.update(conn, """
                UPDATE pgtrickle.pgt_stream_tables
                   SET has_keyless_source = EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies
                                                     WHERE pgt_id = ? AND source_type = 'TABLE'
                                                       AND pgtrickle._primary_key(source_relid) IS NULL)
                 WHERE pgt_id = ?""", id, id);
    }

    /**
     * Runs the first FULL refresh in this (READ COMMITTED) transaction. The sources are locked
     * against writers, so every statement from here on sees the same source state and the
     * frontier taken by the refresh matches what it read.
     */
    private static void initialRefresh(Connection conn, long id) throws SQLException {
        Jdbc.queryOne(conn, Long.class, "SELECT history_id FROM pgtrickle._refresh(?, 'INITIAL', true)", id);
    }

    /**
     * SHARE ROW EXCLUSIVE waits for writers in flight and blocks new ones until commit: changes
     * made before are read by the initial refresh, changes after are captured by the new triggers.
     */
    private static void lockSources(Connection conn, List<SourceRelation> sources) throws SQLException {
        String tables = sources.stream().filter(s -> s.kind().capturable())
                .map(s -> s.qualifiedName().quoted()).collect(Collectors.joining(", "));
        if (!tables.isEmpty()) {
            try (Statement st = conn.createStatement()) {
                st.execute("LOCK TABLE " + tables + " IN SHARE ROW EXCLUSIVE MODE");
            }
        }
    }

    private static long insertCatalogRow(Connection conn, QualifiedName name, long relid, ResolvedQuery query,
                                         CreateOptions o, Schedule schedule, Compilation c) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                INSERT INTO pgtrickle.pgt_stream_tables
                    (pgt_relid, pgt_schema, pgt_name, defining_query, original_query, schedule, refresh_mode,
                     requested_refresh_mode, full_sql, full_apply_sql, functions_used,
                     storage_shape, diff_apply_sql, unsupported_reason, explain_text, explain_json, explain_dot, columns)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, """ + COLUMNS_JSON + """
                        )
                RETURNING pgt_id""")) {
            ps.setLong(1, relid);
            ps.setString(2, name.schema().text());
            ps.setString(3, name.name().text());
            ps.setString(4, query.canonicalQuery());
            ps.setString(5, o.query());
            ps.setString(6, c.mode() == RefreshMode.IMMEDIATE ? null : schedule.catalogText());
            ps.setString(7, c.mode().name());
            ps.setString(8, o.refreshMode().name());
            ps.setString(9, c.query().fullSql());
            ps.setString(10, c.fullApplySql());
            ps.setArray(11, conn.createArrayOf("text", query.functionsUsed().toArray()));
            int next = bindCompiled(ps, 12, c);
            bindColumns(conn, ps, next, query.columns());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** The catalog's {@code columns} jsonb, built by PostgreSQL from two parallel arrays. */
    static final String COLUMNS_JSON = """
            (SELECT jsonb_agg(jsonb_build_object('name', n, 'type', t) ORDER BY i)
               FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS c(n, t, i))""";

    static int bindColumns(Connection conn, PreparedStatement ps, int index, List<OutputColumn> columns) throws SQLException {
        ps.setArray(index, conn.createArrayOf("text", columns.stream().map(OutputColumn::name).toArray()));
        ps.setArray(index + 1, conn.createArrayOf("text", columns.stream().map(OutputColumn::type).toArray()));
        return index + 2;
    }

    /** The schema a new stream table goes to: the given one, or the first existing schema of the search path. */
    private static String targetSchema(Connection conn, QualifiedName name) throws SQLException {
        if (name.schema() != null) {
            if (!Jdbc.queryBoolean(conn, "SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ?)", name.schema().text())) {
                throw new PgtException(ErrorCode.UNDEFINED_TABLE, "3F000",
                        "schema " + Sql.displayIdent(name.schema().text()) + " does not exist",
                        "Create it first: CREATE SCHEMA " + name.schema().quoted() + ";", null);
            }
            return name.schema().text();
        }
        return Jdbc.queryOne(conn, String.class, "SELECT current_schema()").orElseThrow(() -> new PgtException(
                ErrorCode.INVALID_NAME, "3F000",
                "no schema to create " + name.display() + " in: the search path names no existing schema",
                "Qualify the name, e.g. public." + name.display() + ".", null));
    }

    /**
     * Fails before anything is locked or installed unless {@code role} may read every source (the
     * tables behind views included: the engine expands views and reads those tables itself).
     */
    private static void requireReadable(Connection conn, List<SourceRelation> sources, String role) throws SQLException {
        List<String> denied = new ArrayList<>();
        for (SourceRelation s : sources) {
            if (!Jdbc.queryBoolean(conn, "SELECT has_table_privilege(?::name, ?::oid, 'SELECT')", role, s.relid())) {
                denied.add(s.qualifiedName().display());
            }
        }
        if (!denied.isEmpty()) {
            throw new PgtException(ErrorCode.PERMISSION_DENIED,
                    "role " + role + " may not read " + String.join(", ", denied),
                    "A stream table reads its sources with its owner's rights, the tables behind a view included: "
                            + "GRANT SELECT ON the table(s) TO " + Sql.quoteIdent(role) + ".");
        }
    }

    private static void requireCreateInSchema(Connection conn, QualifiedName name, String role) throws SQLException {
        if (!Jdbc.queryBoolean(conn, "SELECT has_schema_privilege(?::name, ?, 'CREATE')", role, name.schema().text())) {
            throw new PgtException(ErrorCode.PERMISSION_DENIED,
                    "role " + role + " may not create tables in schema " + Sql.displayIdent(name.schema().text()),
                    "GRANT CREATE ON SCHEMA " + name.schema().quoted() + " TO " + Sql.quoteIdent(role)
                            + ", or create the stream table in a schema of its own.");
        }
    }

    /**
     * Makes {@code role} the owner of the storage table (refreshes then run with its rights) after
     * checking that it may read every source, and lets it read the sources' change buffers.
     */
    private static void grantToOwner(Connection conn, long id, QualifiedName table, String role) throws SQLException {
        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._require_read(?, ?::name)::text", id, role);
        if (!Jdbc.queryBoolean(conn, "SELECT pgtrickle._owner(?) = ?::name", id, role)) {
            try (Statement s = conn.createStatement()) {
                s.execute("ALTER TABLE " + table.quoted() + " OWNER TO " + Sql.quoteIdent(role));
            }
        }
        Jdbc.queryOne(conn, String.class, "SELECT pgtrickle._grant_buffers(?)::text", id);
    }

    private static void requireNameFree(Connection conn, QualifiedName name) throws SQLException {
        if (Jdbc.queryBoolean(conn, "SELECT to_regclass(?) IS NOT NULL", name.quoted())) {
            throw new PgtException(ErrorCode.ALREADY_EXISTS,
                    "relation " + name.display() + " already exists and is not a stream table",
                    "Choose another name, or drop the existing relation first.");
        }
    }

    private static long streamTableIdOf(Connection conn, long relid) throws SQLException {
        return Jdbc.queryLong(conn, "SELECT pgt_id FROM pgtrickle.pgt_stream_tables WHERE pgt_relid = ?", relid);
    }

    static List<Long> sourceRelids(Connection conn, long id) throws SQLException {
        return Jdbc.queryLongs(conn, "SELECT source_relid FROM pgtrickle.pgt_dependencies WHERE pgt_id = ?", id);
    }

    private String displayName(Connection conn, long id) {
        try {
            return catalog.byId(conn, id).qualifiedName();
        } catch (SQLException e) {
            return "#" + id;
        }
    }
}
