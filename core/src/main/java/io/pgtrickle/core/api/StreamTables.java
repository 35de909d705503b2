package io.pgtrickle.core.api;

import io.pgtrickle.core.catalog.CatalogInstaller;
import io.pgtrickle.core.catalog.StreamTableCatalog;
import io.pgtrickle.core.lifecycle.StreamTableAlterer;
import io.pgtrickle.core.lifecycle.StreamTableCreator;
import io.pgtrickle.core.lifecycle.StreamTableCreator.OnExists;
import io.pgtrickle.core.lifecycle.StreamTableDropper;
import io.pgtrickle.core.refresh.Verifier;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Java API: create, alter, drop, refresh and inspect stream tables.
 *
 * <p>Built over a {@link DataSource} or a JDBC URL, each call runs in its own transaction on a
 * connection of its own. Built with {@link #onConnection}, calls run in the caller's current
 * transaction and never commit: the caller decides (a refresh then needs REPEATABLE READ).
 */
public final class StreamTables {
    private static final Logger log = LoggerFactory.getLogger(StreamTables.class);

    /** Supplies connections; each is closed after use. */
    @FunctionalInterface
    public interface ConnectionSource {
        Connection open() throws SQLException;
    }

    private final ConnectionSource source;
    private final Connection callerConnection;
    private final StreamTableCatalog catalog = new StreamTableCatalog();
    private final StreamTableCreator creator = new StreamTableCreator();
    private final StreamTableAlterer alterer = new StreamTableAlterer();
    private final StreamTableDropper dropper = new StreamTableDropper();

    private StreamTables(ConnectionSource source, Connection callerConnection) {
        this.source = source;
        this.callerConnection = callerConnection;
    }

    public static StreamTables connect(String jdbcUrl) {
        return new StreamTables(() -> DriverManager.getConnection(jdbcUrl), null);
    }

    public static StreamTables using(DataSource dataSource) {
        return new StreamTables(dataSource::getConnection, null);
    }

    /** Every call joins the caller's transaction on {@code conn}; nothing is committed or closed. */
    public static StreamTables onConnection(Connection conn) {
        return new StreamTables(null, conn);
    }

    /** Installs or upgrades the catalog; idempotent. */
    public CatalogInstaller.InstallResult install() {
        return inTransaction("installing pg_trickle", false, conn -> new CatalogInstaller().install(conn));
    }

    public CreateResult create(CreateOptions options) {
        return create(options, OnExists.FAIL);
    }

    /** Creates, or makes an existing stream table match the options (query compared in normalised form). */
    public CreateResult createOrReplace(CreateOptions options) {
        return create(options, OnExists.REPLACE);
    }

    /** Creates unless a stream table of that name exists, which is then left untouched. */
    public CreateResult createIfNotExists(CreateOptions options) {
        return create(options, OnExists.KEEP);
    }

    private CreateResult create(CreateOptions options, OnExists onExists) {
        CreateResult result = inTransaction("creating stream table " + options.name(), true,
                conn -> creator.create(conn, options, onExists));
        result.notices().forEach(n -> log.debug("{}: {}", result.streamTable().qualifiedName(), n));
        return result;
    }

    public List<String> alter(String name, AlterOptions options) {
        if (options.isEmpty()) {
            throw PgtException.invalidArgument("nothing to alter", "Give at least one of schedule, refresh mode or status.");
        }
        return inTransaction("altering stream table " + name, true,
                conn -> alterer.alter(conn, lockedByName(conn, name), options));
    }

    public void resume(String name) {
        inTransaction("resuming stream table " + name, true, conn -> {
            alterer.resume(conn, lockedByName(conn, name));
            return null;
        });
    }

    /** Drops the stream table (and, with cascade, every stream table reading it); returns what was dropped. */
    public List<String> drop(String name, boolean cascade) {
        return inTransaction("dropping stream table " + name, true,
                conn -> dropper.drop(conn, lockedByName(conn, name), cascade));
    }

    /** Refreshes now, waiting for a refresh in progress elsewhere; FULL when {@code forceFull}. */
    public RefreshResult refresh(String name, boolean forceFull) {
        return withConnection("refreshing stream table " + name, conn -> {
            CatalogInstaller.requireInstalled(conn);
            StreamTableInfo st = catalog.require(conn, QualifiedName.parse(name));
            return Refresher.refresh(conn, st.id(), "MANUAL", forceFull, true)
                    .orElseGet(() -> RefreshResult.skipped(st.qualifiedName(), "MANUAL"));
        });
    }

    public RefreshResult refresh(String name) {
        return refresh(name, false);
    }

    public Optional<StreamTableInfo> find(String name) {
        return withConnection("reading stream table " + name, conn -> {
            CatalogInstaller.requireInstalled(conn);
            return catalog.find(conn, QualifiedName.parse(name));
        });
    }

    public StreamTableInfo get(String name) {
        return find(name).orElseThrow(() -> PgtException.notFound(name));
    }

    public List<StreamTableInfo> list() {
        return withConnection("listing stream tables", conn -> {
            CatalogInstaller.requireInstalled(conn);
            return catalog.list(conn);
        });
    }

    /** Newest first; {@code name} null means all stream tables. */
    public List<HistoryEntry> history(String name, int limit) {
        return withConnection("reading refresh history", conn -> {
            CatalogInstaller.requireInstalled(conn);
            Long id = name == null ? null : catalog.require(conn, QualifiedName.parse(name)).id();
            return catalog.history(conn, id, limit);
        });
    }

    /** Output formats of {@link #explain}. */
    public enum ExplainFormat { TEXT, JSON, DOT }

    /**
     * The operator tree, each operator's maintenance strategy, why DIFFERENTIAL is not possible (if
     * so) and the SQL a differential refresh runs; computed when the stream table was compiled.
     */
    public String explain(String name, ExplainFormat format) {
        return withConnection("explaining stream table " + name, conn -> {
            CatalogInstaller.requireInstalled(conn);
            StreamTableInfo st = catalog.require(conn, QualifiedName.parse(name));
            String column = switch (format) {
                case TEXT -> "explain_text";
                case JSON -> "explain_json::text";
                case DOT -> "explain_dot";
            };
            return Jdbc.queryOne(conn, String.class,
                    "SELECT " + column + " FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?", st.id())
                    .orElseThrow(() -> new PgtException(ErrorCode.INVALID_STATE,
                            "stream table " + st.qualifiedName() + " has no explain output",
                            "It was created by an older release; recreate it with create_or_replace."));
        });
    }

    /**
     * Compares the stream table with its defining query in one snapshot. Consistent right after a
     * refresh when no source changed since; a difference at any other time may just be staleness.
     */
    public Verification verify(String name) {
        return withConnection("verifying stream table " + name, conn -> {
            CatalogInstaller.requireInstalled(conn);
            return new Verifier().verify(conn, catalog.require(conn, QualifiedName.parse(name)));
        });
    }

    /** Number of rows currently stored, for status displays. */
    public long rowCount(String name) {
        return withConnection("counting rows of " + name, conn -> {
            CatalogInstaller.requireInstalled(conn);
            StreamTableInfo st = catalog.require(conn, QualifiedName.parse(name));
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT count(*) FROM " + QualifiedName.of(st.schema(), st.name()).quoted());
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    private StreamTableInfo lockedByName(Connection conn, String name) throws SQLException {
        CatalogInstaller.requireInstalled(conn);
        StreamTableInfo st = catalog.require(conn, QualifiedName.parse(name));
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT 1 FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ? FOR UPDATE")) {
            ps.setLong(1, st.id());
            ps.executeQuery().close();
        }
        return st;
    }

    @FunctionalInterface
    interface Work<T> {
        T run(Connection conn) throws SQLException;
    }

    private <T> T inTransaction(String what, boolean requireCatalog, Work<T> work) {
        return withConnection(what, conn -> {
            if (callerConnection != null) {
                if (requireCatalog) {
                    CatalogInstaller.requireInstalled(conn);
                }
                return work.run(conn);
            }
            conn.setAutoCommit(false);
            try {
                if (requireCatalog) {
                    CatalogInstaller.requireInstalled(conn);
                }
                T result = work.run(conn);
                conn.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                conn.rollback();
                throw e;
            }
        });
    }

    private <T> T withConnection(String what, Work<T> work) {
        try {
            if (callerConnection != null) {
                return work.run(callerConnection);
            }
            try (Connection conn = source.open()) {
                return work.run(conn);
            }
        } catch (SQLException e) {
            throw PgtException.fromSql(e, what);
        }
    }
}
