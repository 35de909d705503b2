package io.pgtrickle.core.schedule;

import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Refresher;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when each stream table is refreshed; the refresh itself runs in PostgreSQL.
 *
 * <p>Each tick reads the catalog once, asks PostgreSQL once which stream tables have captured
 * changes, and refreshes, upstream first, those that are due and have something to do. A tick
 * with nothing to do therefore costs two small queries.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    /** The tick; also the smallest schedule accepted (Schedule.MIN_PERIOD). */
    public static final Duration TICK = Duration.ofMillis(100);

    private final ConnectionSource connections;
    private final InstantSource clock;
    private final RefreshListener listener;
    private final Map<Long, Backoff> backoff = new HashMap<>();
    private final Map<String, Schedule> parsed = new HashMap<>();
    /** When this scheduler last refreshed each stream table, by its own clock (the catalog's is the database's). */
    private final Map<Long, Instant> lastRun = new HashMap<>();
    private Connection conn;
    private Thread thread;
    private volatile boolean running;

    public Scheduler(ConnectionSource connections, InstantSource clock, RefreshListener listener) {
        this.connections = connections;
        this.clock = clock;
        this.listener = listener;
    }

    /** Runs ticks on a daemon thread until {@link #close()}. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        thread = new Thread(this::loop, "pgtrickle-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (running) {
            try {
                tick();
            } catch (RuntimeException e) {
                log.warn("scheduler tick failed: {}", e.getMessage());
                closeConnection();
            }
            try {
                Thread.sleep(TICK.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** One pass over the DAG; returns the refreshes it ran. */
    public synchronized List<RefreshResult> tick() {
        List<RefreshResult> done = new ArrayList<>();
        try {
            Connection c = connection();
            if (!enabled(c)) {
                return done;
            }
            List<ScheduledTable> tables = load(c);
            if (tables.isEmpty()) {
                return done;
            }
            Set<Long> withWork = withWork(c);
            StreamTableGraph graph = new StreamTableGraph(tables);
            Map<Long, Duration> periods = graph.effectivePeriods(defaultPeriod(c));
            Instant now = clock.instant();
            Set<Long> changedUpstream = new HashSet<>();
            for (ScheduledTable t : graph.topologicalOrder()) {
                Backoff b = backoff.get(t.id());
                if (b != null && now.isBefore(b.retryAt())) {
                    continue;
                }
                boolean hasWork = withWork.contains(t.id()) || changedUpstream.contains(t.id()) || t.uncapturedSource();
                if (!hasWork || !due(withLastRun(t), periods.get(t.id()), now)) {
                    continue;
                }
                refreshOne(c, t, now).ifPresent(r -> {
                    done.add(r);
                    if (r.rowsInserted() + r.rowsDeleted() > 0) {
                        changedUpstream.addAll(graph.downstreamOf(t.id()));
                    }
                });
            }
        } catch (SQLException e) {
            closeConnection();
            throw PgtException.fromSql(e, "scheduler tick");
        }
        return done;
    }

    private Optional<RefreshResult> refreshOne(Connection c, ScheduledTable t, Instant now) {
        try {
            Optional<RefreshResult> r = Refresher.refresh(c, t.id(), "SCHEDULER", false, false);
            backoff.remove(t.id());
            r.ifPresent(result -> {
                lastRun.put(t.id(), now);
                log.debug("refreshed {}: {} +{} -{} in {} ms", t.name(), result.action(), result.rowsInserted(),
                        result.rowsDeleted(), result.durationMillis());
                listener.refreshed(result);
            });
            return r;
        } catch (SQLException e) {
            PgtException error = PgtException.fromSql(e, "refreshing " + t.name());
            if (error.retryable()) {
                backoff.put(t.id(), Backoff.after(backoff.get(t.id()), now));
            }
            log.warn("refresh of {} failed (SQLSTATE {}): {}", t.name(), error.sqlState(), error.getMessage());
            listener.failed(t.name(), error);
            return Optional.empty();
        }
    }

    private ScheduledTable withLastRun(ScheduledTable t) {
        Instant mine = lastRun.get(t.id());
        if (mine == null || (t.lastRefreshAt() != null && t.lastRefreshAt().isAfter(mine))) {
            return t;
        }
        return new ScheduledTable(t.id(), t.name(), t.schedule(), mine, t.upstream(), t.uncapturedSource());
    }

    static boolean due(ScheduledTable t, Duration period, Instant now) {
        if (t.lastRefreshAt() == null) {
            return true;
        }
        if (t.schedule() instanceof Schedule.CronSchedule cron) {
            return !now.isBefore(cron.nextAfter(t.lastRefreshAt()));
        }
        return period != null && !now.isBefore(t.lastRefreshAt().plus(period));
    }

    private List<ScheduledTable> load(Connection c) throws SQLException {
        List<ScheduledTable> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT s.pgt_id, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), s.schedule, s.last_refresh_at,
                       coalesce(array_agg(u.pgt_id) FILTER (WHERE u.pgt_id IS NOT NULL), '{}'),
                       coalesce(bool_or(d.cdc_mode = 'NONE'), false)
                  FROM pgtrickle.pgt_stream_tables s
                  LEFT JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = s.pgt_id
                  LEFT JOIN pgtrickle.pgt_stream_tables u ON u.pgt_relid = d.source_relid
                 WHERE s.status IN ('ACTIVE', 'INITIALIZING') AND s.refresh_mode <> 'IMMEDIATE'
                 GROUP BY s.pgt_id""")) {
            while (rs.next()) {
                String text = rs.getString(3);
                Schedule schedule = text == null ? new Schedule.Calculated() : parsed.computeIfAbsent(text, Schedule::parse);
                Timestamp last = rs.getTimestamp(4);
                Array ups = rs.getArray(5);
                List<Long> upstream = new ArrayList<>();
                for (Object o : (Object[]) ups.getArray()) {
                    upstream.add(((Number) o).longValue());
                }
                out.add(new ScheduledTable(rs.getLong(1), rs.getString(2), schedule,
                        last == null ? null : last.toInstant(), upstream, rs.getBoolean(6)));
            }
        }
        return out;
    }

    private static Set<Long> withWork(Connection c) throws SQLException {
        Set<Long> out = new HashSet<>();
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM pgtrickle._stream_tables_with_work()")) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
    }

    private static boolean enabled(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pgtrickle._scheduler_enabled()")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    private static Duration defaultPeriod(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT coalesce(nullif(current_setting('pg_trickle.default_schedule_seconds', true), '')::float8, "
                        + Setting.DEFAULT_SCHEDULE_SECONDS.defaultValue() + ")")) {
            rs.next();
            return Duration.ofMillis(Math.max(TICK.toMillis(), (long) (rs.getDouble(1) * 1000)));
        }
    }

    private Connection connection() throws SQLException {
        if (conn == null || conn.isClosed()) {
            conn = connections.open();
            conn.setAutoCommit(true);
        }
        return conn;
    }

    private void closeConnection() {
        if (conn != null) {
            try {
                conn.close();
            } catch (SQLException ignored) {
                // closing a broken connection; the next tick opens a new one
            }
            conn = null;
        }
    }

    @Override
    public void close() {
        running = false;
        Thread t;
        synchronized (this) {
            t = thread;
            thread = null;
        }
        if (t != null) {
            t.interrupt();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        synchronized (this) {
            closeConnection();
        }
    }
}
