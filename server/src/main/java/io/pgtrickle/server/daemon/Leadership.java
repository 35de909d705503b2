package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.schedule.LeaderLock;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leader election and change notifications on one dedicated connection.
 *
 * <p>A standby tries {@link LeaderLock} every {@code retry} (1 s). Once it holds the lock it
 * LISTENs on {@value #WAKE_CHANNEL} on the same connection and waits for notifications in slices
 * of {@code retry}; between slices it checks that its session still holds the lock. A broken
 * connection (the server ended the session, the network failed) shows up at once as an error of
 * the wait, or within {@link #NETWORK_TIMEOUT} of a check on a silent network, and the daemon
 * stops scheduling before it tries to lead again.
 */
final class Leadership implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Leadership.class);
    static final String WAKE_CHANNEL = "pgtrickle_wake";
    /** A lock check that gets no answer within this ends the leadership (silent network failure). */
    static final Duration NETWORK_TIMEOUT = Duration.ofSeconds(5);

    /** Told about changes of role and about change notifications; called on the election thread. */
    interface Listener {
        void elected();

        /** Stop scheduling now; returns when no refresh of this daemon runs any more (or it was rolled back). */
        void deposed();

        void changesCommitted();
    }

    private final ConnectionSource connections;
    private final Duration retry;
    private final Listener listener;
    private final Object sleeper = new Object();
    private volatile boolean running = true;
    private volatile boolean leader;
    private volatile int backendPid;
    private Connection conn;
    private final Thread thread;
    private final ExecutorService timeouts = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-leadership-timeout");
        t.setDaemon(true);
        return t;
    });

    Leadership(ConnectionSource connections, Duration retry, Listener listener) {
        this.connections = connections;
        this.retry = retry;
        this.listener = listener;
        this.thread = new Thread(this::loop, "pgtrickle-leadership");
        thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    boolean leader() {
        return leader;
    }

    /** The backend pid of this daemon's lock session, 0 when it has none. */
    int backendPid() {
        return backendPid;
    }

    private void loop() {
        long lastCheck = 0;
        while (running) {
            try {
                if (conn == null) {
                    conn = connections.open();
                    conn.setAutoCommit(true);
                    conn.setNetworkTimeout(timeouts, (int) NETWORK_TIMEOUT.toMillis());
                    backendPid = conn.unwrap(PGConnection.class).getBackendPID();
                }
                if (!leader) {
                    if (!LeaderLock.tryAcquire(conn)) {
                        pause(retry);
                        continue;
                    }
                    try (Statement st = conn.createStatement()) {
                        st.execute("LISTEN " + WAKE_CHANNEL);
                    }
                    leader = true;
                    lastCheck = System.nanoTime();
                    log.info("elected leader (advisory lock {} held by backend {})", LeaderLock.KEY, backendPid);
                    listener.elected();
                    continue;
                }
                PGNotification[] batch = conn.unwrap(PGConnection.class).getNotifications((int) retry.toMillis());
                if (batch != null && batch.length > 0) {
                    listener.changesCommitted();
                }
                if (System.nanoTime() - lastCheck >= retry.toNanos()) {
                    if (!LeaderLock.held(conn)) {
                        throw new SQLException("the leader lock is no longer held by this session", "55000");
                    }
                    lastCheck = System.nanoTime();
                }
            } catch (SQLException | RuntimeException e) {
                if (running) {
                    log.warn("leader connection lost (SQLSTATE {}): {}", e instanceof SQLException s ? s.getSQLState() : "-",
                            e.getMessage());
                }
                stepDown(true);
                closeConnection();
                if (running) {
                    pause(retry);
                }
            }
        }
        stepDown(false);
        closeConnection(); // ends the session: the lock is free for a standby
    }

    /**
     * @param lockLost the session is gone or no longer holds the lock, so a standby may already lead:
     *     stop reporting leadership before waiting for our refresh in flight (it is serialised with
     *     the new leader's by the stream table's row lock). On a graceful stop the lock is still ours
     *     until the connection closes, so leadership ends after the refresh.
     */
    private void stepDown(boolean lockLost) {
        if (leader) {
            if (lockLost) {
                leader = false;
            }
            listener.deposed(); // returns once no refresh of ours runs any more
            leader = false;
            log.info("no longer leader");
        }
    }

    private void closeConnection() {
        backendPid = 0;
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // already broken
            }
            conn = null;
        }
    }

    private void pause(Duration d) {
        synchronized (sleeper) {
            if (running) {
                try {
                    sleeper.wait(d.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    running = false;
                }
            }
        }
    }

    /** Stops scheduling (waiting for a refresh in flight), then releases the lock. */
    @Override
    public void close() {
        running = false;
        synchronized (sleeper) {
            sleeper.notifyAll();
        }
        if (thread.isAlive() && thread != Thread.currentThread()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        timeouts.shutdownNow();
    }
}
