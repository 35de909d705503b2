package io.pgtrickle.core.catalog;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.cdc.ChangeCapture;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Installs and upgrades the catalog (schemas {@code pgtrickle} and {@code pgtrickle_changes}).
 *
 * <p>Tables change only through numbered migrations, applied in order and recorded in
 * {@code pgtrickle.pgt_schema_version}; routines are re-created by every install. The whole
 * install runs in one transaction under an advisory lock, so two processes installing at once
 * neither fail nor apply a migration twice, and a failed install leaves nothing behind.
 */
public final class CatalogInstaller {
    private static final Logger log = LoggerFactory.getLogger(CatalogInstaller.class);
    /** Advisory lock key for installs: 'PGTI'. */
    private static final long INSTALL_LOCK = 0x50475449L;

    /** Every migration, oldest first. A new catalog version appends one entry. */
    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "stream tables, dependencies, frontiers, change tracking, history, requests",
                    "migrations/V001__catalog.sql"),
            new Migration(2, "differential engine: storage shape, compiled differential SQL, explain",
                    "migrations/V002__differential.sql"),
            new Migration(3, "SQL API: catalog readable by every role, requests with row-level security",
                    "migrations/V003__sql_api.sql"),
            new Migration(4, "IMMEDIATE mode: transition-table SQL and lock mode", "migrations/V004__immediate.sql"),
            new Migration(5, "storage shape PARTITIONED (window functions, DISTINCT ON, set operations)",
                    "migrations/V005__partitioned_shape.sql"),
            new Migration(6, "change buffers batched per statement (one array per captured column)",
                    "migrations/V006__batched_change_buffers.sql"),
            new Migration(7, "refresh data step with its SQL embedded (plans kept per session)",
                    "migrations/V007__apply_version.sql"),
            new Migration(8, "recent differential refresh costs, read by the cost guard",
                    "migrations/V008__refresh_costs.sql"),
            new Migration(9, "source primary keys the compiled SQL relies on",
                    "migrations/V009__source_keys.sql"),
            new Migration(10, "types of the source columns stream tables read, for the DDL guard",
                    "migrations/V010__source_column_types.sql"),
            new Migration(11, "types of the columns change captures record, for the DDL guard",
                    "migrations/V011__captured_types.sql"),
            new Migration(12, "refreshes prune change buffers from a lower bound (routines only)",
                    "migrations/V012__refresh_prune_bound.sql"));

    public static int latestVersion() {
        return MIGRATIONS.get(MIGRATIONS.size() - 1).version();
    }

    /** One numbered schema change. */
    record Migration(int version, String description, String resource) {
        String sql() {
            return readResource(resource);
        }
    }

    /** What an install did. */
    public record InstallResult(int fromVersion, int toVersion) {
        public boolean changed() {
            return fromVersion != toVersion;
        }
    }

    /** Installs or upgrades; idempotent. Commits on success unless the connection is in a transaction. */
    public InstallResult install(Connection conn) {
        try {
            boolean autoCommit = conn.getAutoCommit();
            conn.setAutoCommit(false);
            try {
                InstallResult result = installInTransaction(conn);
                if (autoCommit) {
                    conn.commit();
                }
                return result;
            } catch (SQLException | RuntimeException e) {
                if (autoCommit) {
                    conn.rollback();
                }
                throw e;
            } finally {
                if (autoCommit) {
                    conn.setAutoCommit(true);
                }
            }
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "installing the pg_trickle catalog");
        }
    }

    private InstallResult installInTransaction(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("SELECT pg_advisory_xact_lock(" + INSTALL_LOCK + ")");
            st.execute("""
                    CREATE SCHEMA IF NOT EXISTS pgtrickle;
                    CREATE TABLE IF NOT EXISTS pgtrickle.pgt_schema_version (
                        version     integer PRIMARY KEY,
                        description text NOT NULL,
                        applied_at  timestamptz NOT NULL DEFAULT now())""");
        }
        int current = installedVersion(conn);
        if (current > latestVersion()) {
            throw new PgtException(ErrorCode.CATALOG_TOO_NEW,
                    "the pg_trickle catalog in this database is version " + current
                            + ", newer than this engine understands (" + latestVersion() + ")",
                    "Use a pg_trickle release at least as new as the one that installed the catalog.");
        }
        for (Migration m : MIGRATIONS) {
            if (m.version() <= current) {
                continue;
            }
            log.info("Applying catalog migration {}: {}", m.version(), m.description());
            try (Statement st = conn.createStatement()) {
                st.execute(m.sql());
            }
            try (PreparedStatement ps = conn.prepareStatement(
                    "INSERT INTO pgtrickle.pgt_schema_version (version, description) VALUES (?, ?)")) {
                ps.setInt(1, m.version());
                ps.setString(2, m.description());
                ps.executeUpdate();
            }
        }
        try (Statement st = conn.createStatement()) {
            st.execute(Setting.substituteDefaults(readResource("routines.sql")));
            st.execute(Setting.substituteDefaults(readResource("observability.sql")));
        }
        // Upgrades of the change buffers written by earlier releases, each idempotent.
        ChangeCapture capture = new ChangeCapture();
        logIfAny(capture.upgradeBuffers(conn), "Converted {} change buffer(s) to the batched layout");
        logIfAny(capture.storeCompositesAsText(conn), "Stored the composite-typed columns of {} change buffer(s) as text");
        logIfAny(capture.collateViews(conn), "Gave {} change buffer view(s) their sources' collations");
        logIfAny(capture.rewriteOutdatedViews(conn), "Rewrote {} change buffer view(s) in this release's faster form");
        logIfAny(capture.indexBuffers(conn), "Indexed {} change buffer(s) by writer xid");
        logIfAny(capture.storeBuffersUncompressed(conn), "Stored the fixed-width arrays of {} change buffer(s) uncompressed");
        logIfAny(capture.rewriteOutdatedFunctions(conn), "Rewrote {} capture function(s) written by an earlier release");
        try (Statement st = conn.createStatement()) {
            // this release's count and pruning statements for every buffer (routines.sql, _buffer_routines)
            st.execute("SELECT count(pgtrickle._buffer_routines(source_relid)) FROM pgtrickle.pgt_change_tracking");
        }
        return new InstallResult(current, latestVersion());
    }

    private static void logIfAny(int count, String message) {
        if (count > 0) {
            log.info(message, count);
        }
    }

    /** The installed catalog version, 0 when none. */
    public static int installedVersion(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT CASE WHEN to_regclass('pgtrickle.pgt_schema_version') IS NULL THEN NULL
                            ELSE 1 END""")) {
            rs.next();
            if (rs.getObject(1) == null) {
                return 0;
            }
        }
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("SELECT coalesce(max(version), 0) FROM pgtrickle.pgt_schema_version")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    /** Fails with a clear message when the catalog is missing or older than this engine. */
    public static void requireInstalled(Connection conn) {
        try {
            int v = installedVersion(conn);
            if (v == 0) {
                throw new PgtException(ErrorCode.CATALOG_NOT_INSTALLED,
                        "pg_trickle is not installed in database " + conn.getCatalog(),
                        "Run 'pgtrickle install --url ...' (or StreamTables.install()) once per database.");
            }
            if (v < latestVersion()) {
                throw new PgtException(ErrorCode.CATALOG_NOT_INSTALLED,
                        "the pg_trickle catalog is version " + v + " but this engine needs " + latestVersion(),
                        "Run 'pgtrickle install' to upgrade the catalog in place.");
            }
            if (v > latestVersion()) {
                throw new PgtException(ErrorCode.CATALOG_TOO_NEW,
                        "the pg_trickle catalog is version " + v + ", newer than this engine (" + latestVersion() + ")",
                        "Use a pg_trickle release at least as new as the one that installed the catalog.");
            }
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "checking the pg_trickle catalog");
        }
    }

    static String readResource(String name) {
        try (InputStream in = CatalogInstaller.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
