package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.ConnectException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresTest {

    private static EmbeddedPostgres shared;

    @BeforeAll
    static void startShared() throws IOException {
        shared = EmbeddedPostgres.builder().setting("work_mem", "7MB").start();
    }

    @AfterAll
    static void stopShared() {
        if (shared != null) {
            shared.close();
        }
    }

    private static String query(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return rs.getString(1);
        }
    }

    @Test
    void startsPostgres18WithTestDefaultsAndUserSettings() throws SQLException {
        assertThat(shared.port()).isPositive();
        assertThat(shared.host()).isEqualTo("127.0.0.1");
        assertThat(shared.superuser()).isEqualTo("postgres");
        assertThat(shared.jdbcUrl("postgres"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:" + shared.port() + "/postgres?user=postgres");
        assertThat(shared.version()).startsWith("18.");
        String url = shared.jdbcUrl("postgres");
        assertThat(query(url, "SELECT version()")).startsWith("PostgreSQL 18");
        assertThat(query(url, "SHOW wal_level")).isEqualTo("logical");
        assertThat(query(url, "SHOW fsync")).isEqualTo("off");
        assertThat(query(url, "SHOW max_connections")).isEqualTo("300");
        assertThat(query(url, "SHOW max_prepared_transactions")).isEqualTo("20");
        assertThat(query(url, "SHOW unix_socket_directories")).isEmpty();
        assertThat(query(url, "SHOW data_checksums")).isEqualTo("off");
        assertThat(query(url, "SHOW server_encoding")).isEqualTo("UTF8");
        assertThat(query(url, "SHOW work_mem")).isEqualTo("7MB");
        assertThat(shared.logFile()).exists();
    }

    @Test
    void createsDatabases() throws SQLException {
        shared.createDatabase("orders_db");
        assertThat(query(shared.jdbcUrl("orders_db"), "SELECT current_database()")).isEqualTo("orders_db");
        assertThatThrownBy(() -> shared.createDatabase("orders_db"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("already exists");
    }

    @Test
    void rejectsInvalidDatabaseNames() {
        for (String bad : new String[] {"", "Orders", "a-b", "a\"b", "x".repeat(64), null}) {
            assertThatThrownBy(() -> shared.createDatabase(bad)).as("%s", bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThatThrownBy(() -> EmbeddedPostgres.builder().setting("port", "1"))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void twoServersRunAtOnce() throws Exception {
        // Started concurrently, which also exercises the shared unpack lock.
        CompletableFuture<EmbeddedPostgres> a = CompletableFuture.supplyAsync(TwoServers::start);
        CompletableFuture<EmbeddedPostgres> b = CompletableFuture.supplyAsync(TwoServers::start);
        try (EmbeddedPostgres first = a.get(); EmbeddedPostgres second = b.get()) {
            assertThat(first.port()).isNotEqualTo(second.port()).isNotEqualTo(shared.port());
            assertThat(first.dataDirectory()).isNotEqualTo(second.dataDirectory());
            first.createDatabase("only_in_first");
            assertThat(query(first.jdbcUrl("postgres"),
                    "SELECT count(*) FROM pg_database WHERE datname = 'only_in_first'")).isEqualTo("1");
            assertThat(query(second.jdbcUrl("postgres"),
                    "SELECT count(*) FROM pg_database WHERE datname = 'only_in_first'")).isEqualTo("0");
        }
    }

    private static final class TwoServers {
        static EmbeddedPostgres start() {
            try {
                return EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    @Test
    void closeStopsTheServerAndDeletesItsTemporaryDirectory() throws IOException {
        EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
        String url = pg.jdbcUrl("postgres");
        Path data = pg.dataDirectory();
        assertThat(data).isDirectory();
        // An open connection must not delay a fast shutdown.
        Connection open;
        try {
            open = DriverManager.getConnection(url);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
        long t0 = System.nanoTime();
        pg.close();
        assertThat((System.nanoTime() - t0) / 1_000_000).as("close() ms").isLessThan(5_000);
        assertThatThrownBy(() -> open.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class);
        assertThat(data).doesNotExist();
        assertThat(data.getParent()).doesNotExist();
        assertThatThrownBy(() -> DriverManager.getConnection(url))
                .isInstanceOf(SQLException.class)
                .hasRootCauseInstanceOf(ConnectException.class);
        pg.close(); // idempotent
        assertThatThrownBy(() -> pg.createDatabase("late")).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void keepsACallerSuppliedDataDirectory(@TempDir Path tmp) throws Exception {
        // When the JVM is root the server user must be able to reach the directory.
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dir = tmp.resolve("cluster");
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDirectory(dir).start()) {
            try (Connection c = DriverManager.getConnection(pg.jdbcUrl("postgres"));
                    Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept AS SELECT 42 AS answer");
            }
        }
        assertThat(dir.resolve("PG_VERSION")).exists();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDirectory(dir).start()) {
            assertThat(query(pg.jdbcUrl("postgres"), "SELECT answer FROM kept")).isEqualTo("42");
        }
        assertThat(dir.resolve("PG_VERSION")).exists();
    }

    @Test
    void explainsAnUnreachableDataDirectoryWhenRoot(@TempDir Path tmp) throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwx------"));
        Path dir = tmp.resolve("hidden");
        if (ServerUser.jvmIsRoot()) {
            assertThatThrownBy(() -> EmbeddedPostgres.builder().dataDirectory(dir).start())
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot reach " + dir)
                    .hasMessageContaining("chmod o+x");
        } else {
            try (EmbeddedPostgres pg = EmbeddedPostgres.builder().dataDirectory(dir).start()) {
                assertThat(pg.version()).startsWith("18.");
            }
        }
    }
}
