package io.pgtrickle.server.daemon;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.schedule.RefreshListener;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.schedule.Scheduler;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's Prometheus metrics. Refresh outcomes are counted as the scheduler reports them
 * (so only the leader's counters move); gauges that describe the database
 * (change buffers, stream table statuses and schedules) are read when /metrics is scraped, so every
 * daemon, leader or standby, reports them.
 */
final class DaemonMetrics implements RefreshListener {
    private static final Logger log = LoggerFactory.getLogger(DaemonMetrics.class);
    /**
     * The oldest transaction with a change in a buffer (and its commit's age, where the first
     * placeholder asks for it), from the same bounded read as the depth's count: at most 100,001 rows.
     */
    private static final String OLDEST_CHANGE = """
            SELECT min(x)::text, %s
              FROM (SELECT DISTINCT __pgt_xid AS x FROM (SELECT __pgt_xid FROM %s LIMIT 100001) r) d""";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConnectionSource connections;
    private final Supplier<Scheduler> scheduler;
    private final MultiGauge bufferRows;
    private final MultiGauge freshnessLag;
    private final MultiGauge captureLag;
    private final MultiGauge schedule;
    private final MultiGauge status;
    private final Map<String, AtomicLong> ivmExclusive = new ConcurrentHashMap<>();
    private final CommitClock commitClock = new CommitClock();

    DaemonMetrics(ConnectionSource connections, Supplier<Scheduler> scheduler, Supplier<Boolean> leader) {
        this.connections = connections;
        this.scheduler = scheduler;
        Gauge.builder("pgtrickle.leader", () -> leader.get() ? 1 : 0)
                .description("1 while this daemon holds the leader lock and schedules refreshes, else 0")
                .register(registry);
        Gauge.builder("pgtrickle.scheduler.tick.lag", () -> {
                    Scheduler s = scheduler.get();
                    return s == null ? 0 : s.tickLag().toMillis() / 1000.0;
                })
                .baseUnit("seconds")
                .description("How far the scheduler is behind: 0 while it sleeps, else time since the running tick was due")
                .register(registry);
        bufferRows = MultiGauge.builder("pgtrickle.change.buffer.rows")
                .description("Captured changes waiting in each source's change buffer (estimate above 100,000)")
                .register(registry);
        freshnessLag = MultiGauge.builder("pgtrickle.freshness.lag").baseUnit("seconds")
                .description("Time since the stream table was last known to reflect every committed change (leader only)")
                .register(registry);
        captureLag = MultiGauge.builder("pgtrickle.capture.lag").baseUnit("seconds")
                .description("Age of the oldest change waiting in each source's change buffer, 0 when it is empty")
                .register(registry);
        schedule = MultiGauge.builder("pgtrickle.schedule").baseUnit("seconds")
                .description("The period of each stream table with a duration schedule (none for cron or calculated)")
                .register(registry);
        status = MultiGauge.builder("pgtrickle.stream.table.status")
                .description("1 for the stream table's current status, 0 for the others")
                .register(registry);
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void refreshed(RefreshResult r) {
        Tags st = Tags.of("stream_table", r.streamTable());
        Timer.builder("pgtrickle.refresh.duration")
                .description("Duration of scheduled refreshes")
                .tags(st)
                // Buckets, not client-side percentiles: histogram_quantile() over buckets aggregates
                // across daemons and time windows, precomputed percentiles do not.
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry)
                .record(Duration.ofMillis(r.durationMillis()));
        Counter.builder("pgtrickle.refreshes").description("Scheduled refreshes by action (mode actually used)")
                .tags(st.and("action", r.action())).register(registry).increment();
        Counter.builder("pgtrickle.rows.inserted").description("Rows inserted into stream tables by refreshes")
                .tags(st).register(registry).increment(r.rowsInserted());
        Counter.builder("pgtrickle.rows.deleted").description("Rows deleted from stream tables by refreshes")
                .tags(st).register(registry).increment(r.rowsDeleted());
        FallbackReason.of(r).ifPresent(reason -> Counter.builder("pgtrickle.full.fallbacks")
                .description("Refreshes done as FULL although differential was planned, by reason")
                .tags(st.and("reason", reason.label())).register(registry).increment());
    }

    @Override
    public void failed(String streamTable, PgtException error) {
        String state = error.sqlState();
        String cls = state == null || state.length() < 2 ? "unknown" : state.substring(0, 2);
        Counter.builder("pgtrickle.refresh.errors").description("Failed refreshes by SQLSTATE class")
                .tags("stream_table", streamTable, "sqlstate_class", cls).register(registry).increment();
    }

    /** The Prometheus text, with the scrape-time gauges read first. Scrapes run one at a time. */
    synchronized String scrape() {
        Scheduler s = scheduler.get();
        List<MultiGauge.Row<?>> fresh = new ArrayList<>();
        if (s != null) {
            Instant now = Instant.now();
            for (Map.Entry<String, Instant> e : s.freshAsOf().entrySet()) {
                double lag = Math.max(0, Duration.between(e.getValue(), now).toMillis() / 1000.0);
                fresh.add(MultiGauge.Row.of(Tags.of("stream_table", e.getKey()), lag));
            }
        }
        freshnessLag.register(fresh, true);
        try (Connection c = connections.open()) {
            readStreamTables(c);
            readChangeBuffers(c);
        } catch (SQLException e) {
            log.warn("catalog metrics not available (SQLSTATE {}): {}", e.getSQLState(), e.getMessage());
        }
        return registry.scrape();
    }

    /** Status (one series per status, 1 for the current one) and duration schedules of every stream table. */
    private void readStreamTables(Connection c) throws SQLException {
        List<MultiGauge.Row<?>> statuses = new ArrayList<>();
        List<MultiGauge.Row<?>> periods = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name), status, schedule,
                       refresh_mode = 'IMMEDIATE' AND ivm_lock_mode = 'EXCLUSIVE', ivm_lock_reason, ivm_exclusive_count
                  FROM pgtrickle.pgt_stream_tables""")) {
            while (rs.next()) {
                String name = rs.getString(1);
                for (Status status : Status.values()) {
                    statuses.add(MultiGauge.Row.of(Tags.of("stream_table", name, "status", status.name()),
                            status.name().equals(rs.getString(2)) ? 1 : 0));
                }
                period(rs.getString(3)).ifPresent(p ->
                        periods.add(MultiGauge.Row.of(Tags.of("stream_table", name), p.toMillis() / 1000.0)));
                if (rs.getBoolean(4)) {
                    exclusiveLocks(name, rs.getString(5)).set(rs.getLong(6));
                }
            }
        }
        status.register(statuses, true);
        schedule.register(periods, true);
    }

    /**
     * The statements an IMMEDIATE stream table maintained under its EXCLUSIVE lock, as counted in the
     * catalog by the writers' sessions (monotonic, so exported as a counter).
     */
    private AtomicLong exclusiveLocks(String streamTable, String reason) {
        return ivmExclusive.computeIfAbsent(streamTable, name -> {
            AtomicLong count = new AtomicLong();
            FunctionCounter.builder("pgtrickle.ivm.lock.fallbacks", count, AtomicLong::get)
                    .description("Statements maintained under IMMEDIATE's strongest (EXCLUSIVE) lock, by reason")
                    .tags("stream_table", name, "reason", reason == null ? "unknown" : reason)
                    .register(registry);
            return count;
        });
    }

    /** The period of a duration schedule; none for cron, calculated or (never expected) unreadable ones. */
    private static Optional<Duration> period(String catalogText) {
        try {
            return Schedule.fromCatalog(catalogText) instanceof Schedule.Every every
                    ? Optional.of(every.period()) : Optional.empty();
        } catch (PgtException e) {
            return Optional.empty();
        }
    }

    /**
     * Depth and capture lag of every change buffer. The capture lag is the age of the oldest change
     * waiting: from its commit timestamp with {@code track_commit_timestamp = on}, else from the
     * {@link CommitClock}. Like the depth, it reads at most 100,001 rows of a buffer: beyond that it
     * is the oldest among the rows read, a lower bound.
     */
    private void readChangeBuffers(Connection c) throws SQLException {
        boolean commitTimestamps;
        Instant now;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT current_setting('track_commit_timestamp')::boolean, pg_current_snapshot()::text")) {
            rs.next();
            commitTimestamps = rs.getBoolean(1);
            now = Instant.now();
            commitClock.observe(now, CommitClock.Snapshot.parse(rs.getString(2)));
        }
        List<MultiGauge.Row<?>> depths = new ArrayList<>();
        List<MultiGauge.Row<?>> lags = new ArrayList<>();
        Instant oldestNeeded = null;
        // to_regclass(...)::text is PostgreSQL's own quoting of the buffer's name, safe to put in SQL.
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("""
                SELECT source_table, pending_rows, to_regclass(buffer_table)::text
                  FROM pgtrickle._change_buffer_rows()""")) {
            while (rs.next()) {
                String source = rs.getString(1);
                depths.add(MultiGauge.Row.of(Tags.of("source", source), rs.getLong(2)));
                Oldest o;
                try {
                    o = rs.getLong(2) > 0 && rs.getString(3) != null ? oldest(c, rs.getString(3), commitTimestamps) : null;
                } catch (SQLException e) { // e.g. the buffer was dropped meanwhile: no value this time
                    log.warn("capture lag of {} not available (SQLSTATE {}): {}", source, e.getSQLState(), e.getMessage());
                    continue;
                }
                double lag = 0;
                if (o != null && o.commitAgeSeconds() != null) {
                    lag = Math.max(0, o.commitAgeSeconds());
                } else if (o != null) {
                    lag = commitClock.age(o.xid(), now).toMillis() / 1000.0;
                    Instant by = commitClock.committedBy(o.xid());
                    if (by != null && (oldestNeeded == null || by.isBefore(oldestNeeded))) {
                        oldestNeeded = by;
                    }
                }
                lags.add(MultiGauge.Row.of(Tags.of("source", source), lag));
            }
        }
        commitClock.forgetBefore(oldestNeeded);
        bufferRows.register(depths, true);
        captureLag.register(lags, true);
    }

    /** The oldest transaction with a change in the buffer, and its commit's age where PostgreSQL knows it. */
    private record Oldest(long xid, Double commitAgeSeconds) {
    }

    private static Oldest oldest(Connection c, String buffer, boolean commitTimestamps) throws SQLException {
        String age = commitTimestamps
                ? "extract(epoch FROM statement_timestamp() - min(pg_xact_commit_timestamp(x::xid)))::float8"
                : "NULL::float8";
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(OLDEST_CHANGE.formatted(age, buffer))) {
            rs.next();
            String xid = rs.getString(1);
            if (xid == null) {
                return null; // consumed since the depth was read
            }
            double seconds = rs.getDouble(2);
            return new Oldest(Long.parseLong(xid), rs.wasNull() ? null : seconds);
        }
    }
}
