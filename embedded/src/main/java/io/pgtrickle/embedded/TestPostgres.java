package io.pgtrickle.embedded;

import java.io.IOException;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL server per JVM, shared by all tests, each test getting its own fresh database.
 *
 * <p>Why: starting a server takes about a second and a database a few milliseconds, so tests isolate themselves by
 * database rather than by server. The server starts lazily on first use and stops when the JVM exits. Set the
 * environment variable {@value #URL_ENV} (or the system property {@value #URL_PROPERTY}) to a superuser JDBC URL,
 * e.g. {@code jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres}, to use an existing server instead (its
 * test databases are kept; it is assumed to be a disposable test machine).
 *
 * <p>Thread-safe; independent of any test framework.
 */
public final class TestPostgres {

    private static final Logger log = LoggerFactory.getLogger(TestPostgres.class);

    public static final String URL_ENV = "PGTRICKLE_TEST_URL";
    public static final String URL_PROPERTY = "pgtrickle.test.url";

    private static final AtomicLong COUNTER = new AtomicLong();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** The server in use: external (embedded == null) or embedded. */
    private record Server(String adminUrl, String version, EmbeddedPostgres embedded) {}

    private static Server server;
    private static RuntimeException startFailure;

    private TestPostgres() {}

    /**
     * Creates a database named after {@code hint} (lower-cased, non-alphanumerics replaced by {@code _}, truncated)
     * plus a counter and a random suffix, unique even among JVMs sharing an external server.
     */
    public static TestDatabase newDatabase(String hint) {
        return create(hint, null);
    }

    /**
     * Like {@link #newDatabase(String)}, but a copy of the database {@code template} (made by this class, and with
     * no session connected to it: PostgreSQL refuses to copy a database in use).
     */
    public static TestDatabase newDatabase(String hint, TestDatabase template) {
        return create(hint, template.name());
    }

    private static TestDatabase create(String hint, String template) {
        Server s = server();
        String name = uniqueName(hint);
        try (Connection c = ReusedSessions.connect(s.adminUrl()); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE \"" + name + "\"" + (template == null ? "" : " TEMPLATE \"" + template + "\""));
            if (s.embedded() == null) {
                // The embedded server runs with fsync off; on an external one, tests need not wait for each commit's flush.
                st.execute("ALTER DATABASE \"" + name + "\" SET synchronous_commit = off");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("CREATE DATABASE " + name + " failed on " + redact(s.adminUrl()) + ": "
                    + e.getMessage(), e);
        }
        String url = s.embedded() != null ? s.embedded().jdbcUrl(name) : withDatabase(s.adminUrl(), name);
        return new TestDatabase(name, url, s.version());
    }

    /** A superuser URL to the {@code postgres} database of the server in use (starts it if needed). */
    public static String adminUrl() {
        return server().adminUrl();
    }

    /** True if an external server is used ({@value #URL_ENV} or {@value #URL_PROPERTY} set). Starts nothing. */
    public static boolean external() {
        return externalUrl() != null;
    }

    private static String externalUrl() {
        String url = System.getProperty(URL_PROPERTY);
        if (url == null || url.isBlank()) {
            url = System.getenv(URL_ENV);
        }
        return url == null || url.isBlank() ? null : url.strip();
    }

    private static synchronized Server server() {
        if (server != null) {
            return server;
        }
        if (startFailure != null) { // fail fast instead of retrying a 60 s startup in every test
            throw new IllegalStateException("the test PostgreSQL server failed to start earlier: "
                    + startFailure.getMessage(), startFailure);
        }
        try {
            server = start();
            return server;
        } catch (RuntimeException e) {
            startFailure = e;
            throw e;
        }
    }

    private static Server start() {
        String url = externalUrl();
        if (url != null) {
            try (Connection c = connect(url); Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SHOW server_version")) {
                rs.next();
                String version = rs.getString(1);
                log.info("Tests use external PostgreSQL {} at {}", version, redact(url));
                return new Server(url, version, null);
            } catch (SQLException e) {
                throw new IllegalStateException("cannot connect to the external test server " + redact(url)
                        + " (from " + URL_PROPERTY + "/" + URL_ENV + "): " + e.getMessage(), e);
            }
        }
        try {
            // Stopped by its own shutdown hook at JVM exit.
            EmbeddedPostgres pg = EmbeddedPostgres.builder().start();
            return new Server(pg.jdbcUrl("postgres"), pg.version(), pg);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the embedded test PostgreSQL server: " + e.getMessage(), e);
        }
    }

    static String uniqueName(String hint) {
        String base = hint == null ? "" : hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_")
                .replaceAll("^_+|_+$", "");
        if (base.isEmpty()) {
            base = "test";
        }
        if (Character.isDigit(base.charAt(0))) {
            base = "t_" + base;
        }
        String suffix = "_" + COUNTER.incrementAndGet() + "_"
                + Long.toString(RANDOM.nextLong() & Long.MAX_VALUE, 36).substring(0, 5);
        base = base.substring(0, Math.min(base.length(), 63 - suffix.length()));
        String name = base + suffix;
        EmbeddedPostgres.checkDatabaseName(name);
        return name;
    }

    /** Replaces the database in a {@code jdbc:postgresql:} URL, keeping host, port and parameters. */
    static String withDatabase(String url, String database) {
        String prefix = "jdbc:postgresql:";
        if (!url.startsWith(prefix)) {
            throw new IllegalArgumentException("not a jdbc:postgresql: URL: " + redact(url));
        }
        String rest = url.substring(prefix.length());
        int query = rest.indexOf('?');
        String params = query < 0 ? "" : rest.substring(query);
        String path = query < 0 ? rest : rest.substring(0, query);
        if (!path.startsWith("//")) {
            return prefix + database + params; // jdbc:postgresql:database
        }
        int slash = path.indexOf('/', 2);
        String hosts = slash < 0 ? path : path.substring(0, slash);
        return prefix + hosts + "/" + database + params;
    }

    private static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    private static Connection connect(String url) throws SQLException {
        Connection c = new org.postgresql.Driver().connect(url, new Properties());
        if (c == null) {
            throw new SQLException("not a jdbc:postgresql: URL: " + redact(url));
        }
        return c;
    }
}
