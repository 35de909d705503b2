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
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when each stream table is refreshed; the refresh itself runs in PostgreSQL.
 *
 * <p>Each tick reads the catalog once, asks PostgreSQL once which stream tables have captured
 * changes, and refreshes, upstream first, those that are due and have something to do. A tick
 * with nothing to do therefore costs two small queries.
 *
 * <p>Between ticks the loop sleeps until the earliest stream table with pending work falls due,
 * at most the poll interval, and at once when {@link #wakeUp()} is called (the daemon does so on
 * every change notification), so a commit is picked up without waiting for the next poll.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);
    /** The tick; also the smallest schedule accepted (Schedule.MIN_PERIOD) and the shortest timed sleep. */
    public static final Duration TICK = Duration.ofMillis(100);
    /**
     * Least time between two ticks started by wake-ups: a burst of commits costs one tick per
     * 10 ms, not one per commit (the original's wake_debounce_ms default).
     */
    static final Duration WAKE_DEBOUNCE = Duration.ofMillis(10);
    /** How long close() waits for a refresh in flight before closing its connection (which rolls it back). */
    static final Duration CLOSE_GRACE = Duration.ofSeconds(30);

    private final ConnectionSource connections;
    private final InstantSource clock;
    private final RefreshListener listener;
    private final Duration pollInterval;
    private final RandomGenerator random;
    private final Map<Long, Backoff> backoff = new HashMap<>();
    private final Map<String, Schedule> parsed = new HashMap<>();
    private final Set<String> unparsable = new HashSet<>();
    /** When this scheduler last refreshed each stream table, by its own clock (the catalog's is the database's). */
    private final Map<Long, Instant> lastRun = new HashMap<>();
    private final Object wakeMonitor = new Object();
    private boolean wakeRequested;
    private volatile Connection conn;
    private Thread thread;
    private volatile boolean running;
    /** Set by close(): no new refresh starts, also not in the middle of a tick. */
    private volatile boolean stopRequested;
    /** The earliest moment a stream table with pending work falls due, as of the last tick; null if none. */
    private volatile Instant nextDue;
    /** When the loop meant to start its next tick; the tick lag is how far the clock has gone past it. */
    private volatile Instant plannedTick;
    private final AtomicLong ticks = new AtomicLong();
    /** Per stream table (by name): the latest moment it was known to reflect every committed change. */
    private final Map<String, Instant> freshAsOf = new ConcurrentHashMap<>();

    public Scheduler(ConnectionSource connections, InstantSource clock, RefreshListener listener) {
        this(connections, clock, listener, TICK, RandomGenerator.getDefault());
    }

    /**
     * @param pollInterval longest sleep between ticks when nothing is due; a daemon that is woken by
     *                     change notifications can poll rarely (pg_trickle.scheduler_interval_ms)
     * @param random       spreads retry delays; tests pass a fixed one
     */
    public Scheduler(ConnectionSource connections, InstantSource clock, RefreshListener listener, Duration pollInterval,
                     RandomGenerator random) {
        if (pollInterval.compareTo(TICK) < 0) {
            throw new IllegalArgumentException("poll interval " + pollInterval + " is shorter than the tick " + TICK);
        }
        this.connections = connections;
        this.clock = clock;
        this.listener = listener;
        this.pollInterval = pollInterval;
        this.random = random;
    }

    /** Runs ticks on a daemon thread until {@link #close()}. */
    public synchronized void start() {
        if (thread != null) {
            return;
        }
        running = true;
        plannedTick = clock.instant();
        thread = new Thread(this::loop, "pgtrickle-scheduler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Makes the loop tick now (or right after the tick in progress); cheap, callable from any thread. */
    public void wakeUp() {
        synchronized (wakeMonitor) {
            wakeRequested = true;
            wakeMonitor.notifyAll();
        }
    }

    /**
     * How far behind the loop is: zero while it sleeps between ticks, else the time since the tick
     * now running (or overdue) was meant to start. A long refresh shows here, since nothing else
     * is refreshed meanwhile.
     */
    public Duration tickLag() {
        Instant planned = plannedTick;
        if (planned == null || !running) {
            return Duration.ZERO;
        }
        Duration lag = Duration.between(planned, clock.instant());
        return lag.isNegative() ? Duration.ZERO : lag;
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
                awaitNextTick();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Sleeps until the next stream table with work is due, the poll interval passes, or a wake-up. */
    private void awaitNextTick() throws InterruptedException {
        Instant now = clock.instant();
        Duration sleep = pollInterval;
        Instant due = nextDue;
        if (due != null) {
            Duration untilDue = Duration.between(now, due);
            // Not shorter than the tick: a due stream table that was skipped (refreshed elsewhere) must not spin.
            sleep = untilDue.compareTo(TICK) < 0 ? TICK : untilDue.compareTo(pollInterval) > 0 ? pollInterval : untilDue;
        }
        plannedTick = now.plus(sleep);
        synchronized (wakeMonitor) {
            if (!wakeRequested && running) {
                wakeMonitor.wait(sleep.toMillis());
            }
            if (wakeRequested) {
                wakeRequested = false;
                plannedTick = clock.instant();
                wakeMonitor.wait(WAKE_DEBOUNCE.toMillis()); // commits arriving together share the tick
                wakeRequested = false;
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
            freshAsOf.keySet().retainAll(tables.stream().map(ScheduledTable::name).toList());
            if (tables.isEmpty()) {
                return done;
            }
            Instant checked = clock.instant(); // every change committed before this is seen by withWork
            Set<Long> withWork = withWork(c);
            StreamTableGraph graph = new StreamTableGraph(tables);
            Map<Long, Duration> periods = graph.effectivePeriods(defaultPeriod(c));
            Instant now = clock.instant();
            Set<Long> changedUpstream = new HashSet<>();
            Instant earliest = null;
            for (ScheduledTable t : graph.topologicalOrder()) {
                if (stopRequested) {
                    break;
                }
                boolean hasWork = withWork.contains(t.id()) || changedUpstream.contains(t.id()) || t.uncapturedSource();
                if (!hasWork) {
                    freshAsOf.put(t.name(), checked);
                    continue;
                }
                Backoff b = backoff.get(t.id());
                if (b != null && now.isBefore(b.retryAt())) {
                    earliest = min(earliest, b.retryAt());
                    continue;
                }
                if (!due(withLastRun(t), periods.get(t.id()), now)) {
                    earliest = min(earliest, dueAt(withLastRun(t), periods.get(t.id())));
                    continue;
                }
                Optional<RefreshResult> r = refreshOne(c, t, now);
                if (r.isPresent()) {
                    freshAsOf.put(t.name(), checked);
                    done.add(r.get());
                    if (r.get().rowsInserted() + r.get().rowsDeleted() > 0) {
                        changedUpstream.addAll(graph.downstreamOf(t.id()));
                    }
                } else if (backoff.containsKey(t.id())) {
                    earliest = min(earliest, backoff.get(t.id()).retryAt());
                }
            }
            nextDue = earliest;
        } catch (SQLException e) {
            closeConnection();
            throw PgtException.fromSql(e, "scheduler tick");
        } finally {
            ticks.incrementAndGet();
        }
        return done;
    }

    /**
     * For each stream table this scheduler looks after, the latest moment it was known to reflect
     * every change committed before: the last tick that found nothing to do for it, or the start
     * of its last refresh. Freshness lag is the time since.
     */
    public Map<String, Instant> freshAsOf() {
        return Map.copyOf(freshAsOf);
    }

    /** Ticks run so far, failed ones included. */
    public long ticks() {
        return ticks.get();
    }

    /** The earliest moment a stream table with pending work falls due, as of the last tick; empty if none. */
    public Optional<Instant> nextDue() {
        return Optional.ofNullable(nextDue);
    }

    private static Instant min(Instant a, Instant b) {
        return a == null || b.isBefore(a) ? b : a;
    }

    /** Throws only when the connection itself is lost: the tick cannot go on with it. */
    private Optional<RefreshResult> refreshOne(Connection c, ScheduledTable t, Instant now) throws SQLException {
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
                backoff.put(t.id(), Backoff.after(backoff.get(t.id()), now, random));
            }
            log.warn("refresh of {} failed (SQLSTATE {}): {}", t.name(), error.sqlState(), error.getMessage());
            listener.failed(t.name(), error);
            if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                throw e; // connection lost: the rest of the tick would fail the same way
            }
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
        return !now.isBefore(dueAt(t, period));
    }

    /** When a stream table falls due: at once if never refreshed, Instant.MAX if it has no period. */
    static Instant dueAt(ScheduledTable t, Duration period) {
        if (t.lastRefreshAt() == null) {
            return Instant.MIN;
        }
        if (t.schedule() instanceof Schedule.CronSchedule cron) {
            return cron.nextAfter(t.lastRefreshAt());
        }
        return period == null ? Instant.MAX : t.lastRefreshAt().plus(period);
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
                Schedule schedule = text == null ? new Schedule.Calculated() : parsed(text, rs.getString(2));
                if (schedule == null) {
                    continue;
                }
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

    /**
     * The parsed schedule, or null when it does not parse: the SQL API's check of cron fields is
     * coarser than cron-utils', and one bad schedule must not stop the others. Warned once per text.
     */
    private Schedule parsed(String text, String streamTable) {
        if (unparsable.contains(text)) {
            return null;
        }
        try {
            return parsed.computeIfAbsent(text, Schedule::parse);
        } catch (PgtException e) {
            unparsable.add(text);
            log.warn("stream table {} is not scheduled: {}. Give it another schedule with alter.", streamTable, e.getMessage());
            return null;
        }
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

    /**
     * Stops at once: no refresh starts after this call. A refresh in flight is left to finish
     * (it is one transaction in PostgreSQL); if it takes longer than {@link #CLOSE_GRACE}, its
     * connection is closed, which rolls it back. Either way nothing stays locked.
     */
    @Override
    public void close() {
        stopRequested = true;
        running = false;
        Thread t;
        synchronized (this) {
            t = thread;
            thread = null;
        }
        wakeUp();
        if (t != null && t != Thread.currentThread()) {
            try {
                t.join(CLOSE_GRACE.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (t.isAlive()) {
                log.warn("a refresh is still running after {} s; closing its connection rolls it back",
                        CLOSE_GRACE.toSeconds());
                Connection c = conn;
                if (c != null) {
                    try {
                        c.close();
                    } catch (SQLException ignored) {
                        // the refresh thread sees the closed connection and ends
                    }
                }
            }
        }
        synchronized (this) {
            closeConnection();
        }
    }
}
