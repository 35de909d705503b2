package io.pgtrickle.server.daemon;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import io.pgtrickle.core.schedule.RefreshListener;
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
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's Prometheus metrics. Refresh outcomes are counted as the scheduler reports them
 * (so only the leader's counters move); gauges that describe the database (change buffers) are
 * read when /metrics is scraped, so every daemon, leader or standby, reports them.
 */
final class DaemonMetrics implements RefreshListener {
    private static final Logger log = LoggerFactory.getLogger(DaemonMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ConnectionSource connections;
    private final Supplier<Scheduler> scheduler;
    private final MultiGauge bufferRows;
    private final MultiGauge freshnessLag;

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

    /** The Prometheus text, with the scrape-time gauges read first. */
    String scrape() {
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
        List<MultiGauge.Row<?>> buffers = new ArrayList<>();
        try (Connection c = connections.open(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT source_table, pending_rows FROM pgtrickle._change_buffer_rows()")) {
            while (rs.next()) {
                buffers.add(MultiGauge.Row.of(Tags.of("source", rs.getString(1)), rs.getLong(2)));
            }
            bufferRows.register(buffers, true);
        } catch (SQLException e) {
            log.warn("change buffer sizes not available (SQLSTATE {}): {}", e.getSQLState(), e.getMessage());
        }
        return registry.scrape();
    }
}
