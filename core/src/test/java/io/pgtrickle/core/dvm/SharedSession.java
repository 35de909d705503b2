package io.pgtrickle.core.dvm;

import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.testing.Db;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * One open session for a property test's own statements and for the API, which gets it as a
 * data source whose connections are the same session (closing one only ends its transaction and
 * restores autocommit; the engine keeps no other session state). A property runs thousands of
 * cases of a few dozen calls each, and opening a connection per call cost more than the calls.
 */
final class SharedSession implements AutoCloseable {
    private final Connection session;
    final StreamTables api;

    SharedSession(Db db) {
        this.session = db.connect();
        this.api = StreamTables.using((DataSource) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getConnection")) {
                        return handout();
                    }
                    throw new UnsupportedOperationException(method.getName());
                }));
    }

    private Connection handout() {
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        if (!session.getAutoCommit()) {
                            session.rollback();
                            session.setAutoCommit(true);
                        }
                        return null;
                    }
                    if (method.getName().equals("isClosed")) {
                        return false;
                    }
                    try {
                        return method.invoke(session, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    /** The session itself, in autocommit mode; a caller that turns autocommit off restores it. */
    Connection connection() {
        return session;
    }

    /** Runs statements, each in its own autocommit transaction. */
    void exec(String... sql) {
        try (Statement st = session.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + String.join("; ", sql), e);
        }
    }

    /** The first column of every row. */
    List<String> strings(String sql) {
        List<String> out = new ArrayList<>();
        try (Statement st = session.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    @Override
    public void close() throws SQLException {
        session.close();
    }
}
