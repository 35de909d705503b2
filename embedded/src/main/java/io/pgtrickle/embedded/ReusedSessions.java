package io.pgtrickle.embedded;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Objects;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * Connections to test databases that are kept open after {@code close()} and handed out again, with
 * their session state reset, so that a test's hundreds of short calls do not each start a server
 * process with cold catalog caches (the first statements of a new session are several milliseconds
 * slower than the same statements later; a test suite opening a session per call spent about half
 * its time there).
 *
 * <p>A returned session is reset to what a new one would be: an open transaction is rolled back,
 * autocommit and read-only restored, and {@code SET SESSION AUTHORIZATION DEFAULT; RESET
 * ALL; UNLISTEN *; DISCARD TEMP} plus {@code pg_advisory_unlock_all()} run. Prepared plans are kept,
 * as a long-running client (the daemon) keeps them. Database and role settings ({@code ALTER
 * DATABASE … SET}) are read by PostgreSQL only when a session starts, so a session is not reused once
 * {@code pg_db_role_setting} differs from what it was when the session started; a session given
 * back with other settings than it started with closes the idle ones too. A session that fails
 * its reset (terminated, broken) is closed.
 *
 * <p>Not a general-purpose pool: there is no limit on sessions in use, only on idle ones, kept across
 * all databases and evicted least recently used first, because tests create thousands of throwaway
 * databases and abandon them without closing anything. Thread-safe.
 */
public final class ReusedSessions {
    /** Idle sessions kept over all databases; beyond it the least recently returned is closed. */
    static final int MAX_IDLE = 8;

    private static final String RESET = "SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; DISCARD TEMP; "
            + "SELECT pg_advisory_unlock_all()";

    /** The database and role settings a new session of this database and user would start with, as one text. */
    private static final String SETTINGS = "SELECT coalesce(string_agg(setdatabase || '/' || setrole || '=' "
            + "|| array_to_string(setconfig, ','), ';' ORDER BY setdatabase, setrole), '') FROM pg_db_role_setting "
            + "WHERE setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) "
            + "AND setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = session_user))";

    private record Idle(String url, Connection connection, String settings) {}

    private static final Deque<Idle> IDLE = new ArrayDeque<>();

    private ReusedSessions() {}

    /** A data source whose connections go back to the idle set on {@code close()}. */
    public static DataSource dataSource(String jdbcUrl) {
        return new Source(Objects.requireNonNull(jdbcUrl));
    }

    /** A connection to {@code jdbcUrl}: an idle one if there is one, else a new session. */
    public static Connection connect(String jdbcUrl) throws SQLException {
        Idle idle = take(jdbcUrl);
        if (idle == null) {
            Connection real = DriverManager.getConnection(jdbcUrl);
            idle = new Idle(jdbcUrl, real, settings(real));
        }
        return wrap(idle);
    }

    /** Closes the idle sessions to every database (for tests that need every session to start anew). */
    public static void closeIdle() {
        Deque<Idle> all;
        synchronized (IDLE) {
            all = new ArrayDeque<>(IDLE);
            IDLE.clear();
        }
        all.forEach(i -> closeQuietly(i.connection()));
    }

    private static Idle take(String url) {
        synchronized (IDLE) {
            for (Iterator<Idle> it = IDLE.iterator(); it.hasNext(); ) {
                Idle i = it.next();
                if (i.url().equals(url)) {
                    it.remove();
                    return i;
                }
            }
        }
        return null;
    }

    private static void giveBack(Idle session) {
        Connection c = session.connection();
        try {
            if (c.isClosed()) {
                return;
            }
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
            if (c.isReadOnly()) { // the driver's flag; the isolation level is a setting RESET ALL restores
                c.setReadOnly(false);
            }
            if (!session.settings().equals(resetAndReadSettings(c))) {
                // The settings changed while it was in use (most likely by it): every idle session
                // started before too, and would start with the old ones.
                closeQuietly(c);
                closeIdle();
                return;
            }
        } catch (SQLException | RuntimeException e) {
            closeQuietly(c);
            return;
        }
        Idle evicted = null;
        synchronized (IDLE) {
            IDLE.addFirst(session);
            if (IDLE.size() > MAX_IDLE) {
                evicted = IDLE.removeLast();
            }
        }
        if (evicted != null) {
            closeQuietly(evicted.connection());
        }
    }

    private static String resetAndReadSettings(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(RESET);
        }
        return settings(c);
    }

    /** Prepared, so that a session reused many times reads them without planning the query again. */
    private static String settings(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SETTINGS); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static Connection wrap(Idle session) {
        Connection real = session.connection();
        InvocationHandler handler = new InvocationHandler() {
            private boolean closed;

            @Override
            public Object invoke(Object proxy, java.lang.reflect.Method method, Object[] args) throws Throwable {
                switch (method.getName()) {
                    case "close":
                        if (!closed) {
                            closed = true;
                            giveBack(session);
                        }
                        return null;
                    case "isClosed":
                        return closed || real.isClosed();
                    case "equals":
                        return proxy == args[0];
                    case "hashCode":
                        return System.identityHashCode(proxy);
                    case "toString":
                        return "reused " + real;
                    default:
                        if (closed) {
                            throw new SQLException("connection closed");
                        }
                        try {
                            return method.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                }
            }
        };
        return (Connection) Proxy.newProxyInstance(ReusedSessions.class.getClassLoader(), new Class<?>[] {Connection.class},
                handler);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // already broken: nothing to release
        }
    }

    private record Source(String url) implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return connect(url);
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("the URL names the user");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {}

        @Override
        public void setLoginTimeout(int seconds) {}

        @Override
        public int getLoginTimeout() {
            return 0;
        }

        @Override
        public Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }
    }
}
