package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.lifecycle.RequestProcessor;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out what the SQL API asks of the daemon (CALL pgtrickle.create_stream_table(...) and
 * the other compiling procedures): LISTENs on {@value #CHANNEL}, and also looks every
 * {@link #POLL} for requests whose notification it missed (e.g. filed while it reconnected).
 *
 * <p>Every daemon runs one, leader or standby: requests are taken with SKIP LOCKED, so each is
 * carried out once. On close, a request in progress is finished first.
 */
final class RequestWorker implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RequestWorker.class);
    static final String CHANNEL = "pgtrickle_request";
    private static final Duration POLL = Duration.ofSeconds(1);
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(30);

    private final ConnectionSource connections;
    private final RequestProcessor processor = new RequestProcessor();
    private final Thread thread;
    private volatile boolean running = true;

    RequestWorker(ConnectionSource connections) {
        this.connections = connections;
        this.thread = new Thread(this::loop, "pgtrickle-requests");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        Connection conn = null;
        while (running) {
            try {
                if (conn == null) {
                    conn = connections.open();
                    conn.setAutoCommit(true);
                    try (Statement st = conn.createStatement()) {
                        st.execute("LISTEN " + CHANNEL);
                    }
                }
                while (running && processor.processNext(conn)) {
                    // one request per transaction, oldest first
                }
                conn.unwrap(PGConnection.class).getNotifications((int) POLL.toMillis());
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    log.warn("request worker: {} (SQLSTATE {}); reconnecting", e.getMessage(),
                            e instanceof SQLException s ? s.getSQLState() : "-");
                }
                close(conn);
                conn = null;
                sleep(POLL);
            }
        }
        close(conn);
    }

    private static void close(Connection conn) {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
        }
    }

    private void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** No new request is taken; the one in progress finishes (its transaction commits or rolls back). */
    @Override
    public void close() {
        running = false;
        try {
            thread.join(CLOSE_GRACE.toMillis() + POLL.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
