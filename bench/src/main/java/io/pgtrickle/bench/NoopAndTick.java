package io.pgtrickle.bench;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.schedule.RefreshListener;
import io.pgtrickle.core.schedule.Scheduler;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What doing nothing costs. The no-op refresh: {@code CALL pgtrickle.refresh_stream_table} of a
 * stream table whose sources did not change (NO_DATA). The scheduler's tick: one call of the public
 * {@link Scheduler#tick()} — the pass the daemon's scheduler thread runs — with 100 and 1,000
 * stream tables and no source changed: it checks {@code pgtrickle._scheduler_enabled()}, reads the
 * catalog (one query), asks {@code pgtrickle._stream_tables_with_work()} which stream tables have
 * captured changes (one EXISTS per stream table and source, in PostgreSQL), reads the default
 * schedule, orders the DAG and finds nothing to refresh. {@code _stream_tables_with_work()} is
 * also timed alone, as the share of the tick spent in PostgreSQL's loop over the stream tables.
 */
final class NoopAndTick {
    /** 1,000 stream tables over 10 sources of 1,000 rows: 100 readers per source. */
    private static final int SOURCES = 10;

    record Result(Stats.Sample noopRefreshMs, List<Tick> ticks) {
    }

    /**
     * @param refreshesInTicks refreshes the measured ticks ran: 0 when nothing had work, as intended
     */
    record Tick(int streamTables, Stats.Sample tickMs, Stats.Sample withWorkMs, double createSeconds, long refreshesInTicks) {
    }

    private final BenchContext ctx;

    NoopAndTick(BenchContext ctx) {
        this.ctx = ctx;
    }

    static List<Integer> sizes() {
        return List.of(100, 1_000);
    }

    static int steps() {
        return 1 + sizes().size();
    }

    Result run() throws SQLException {
        ctx.progress().family("noop", steps(), "no-op refresh, then the scheduler's tick with " + sizes()
                + " stream tables (in a database of their own)");
        Stats.Sample noop = noopRefresh();
        List<Tick> ticks = new ArrayList<>();
        try (ScratchDatabase db = ScratchDatabase.create(ctx.url(), "bench_tick");
             Connection c = DriverManager.getConnection(db.url())) {
            StreamTables api = StreamTables.connect(db.url());
            api.install();
            for (int s = 0; s < SOURCES; s++) {
                Sql.exec(c, "CREATE TABLE tick_src_" + s + " (id int PRIMARY KEY, v int NOT NULL)");
                Sql.exec(c, "INSERT INTO tick_src_" + s + " SELECT g, g % 100 FROM generate_series(1, 1000) g");
            }
            int created = 0;
            double createSeconds = 0;
            try (Scheduler scheduler = new Scheduler(() -> DriverManager.getConnection(db.url()), InstantSource.system(),
                    RefreshListener.NONE)) {
                for (int target : sizes()) {
                    ctx.progress().step(String.format(Locale.ROOT, "scheduler tick with %,d stream tables", target));
                    long t = System.nanoTime();
                    for (; created < target; created++) {
                        api.create(CreateOptions.of("tick_st_" + created, "SELECT id, v FROM tick_src_" + (created % SOURCES)
                                + " WHERE v = " + (created % 100)).withRefreshMode(RefreshMode.DIFFERENTIAL).withSchedule("1m"));
                    }
                    createSeconds += Sql.millisSince(t) / 1000;
                    Sql.exec(c, "ANALYZE");
                    ticks.add(tick(c, scheduler, target, createSeconds));
                }
            }
        }
        return new Result(noop, ticks);
    }

    private Stats.Sample noopRefresh() throws SQLException {
        Connection c = ctx.conn();
        int n = ctx.config().quick() ? 50 : 200;
        ctx.progress().step("no-op refresh x " + n);
        Sql.exec(c, "DROP TABLE IF EXISTS noop_src CASCADE");
        Sql.exec(c, "CREATE TABLE noop_src (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        Sql.exec(c, "INSERT INTO noop_src SELECT g, g % 10000, g % 1000 FROM generate_series(1, " + ctx.config().firstRows() + ") g");
        ctx.api().create(CreateOptions.of("noop_st", "SELECT k, count(*) AS n, sum(v) AS s FROM noop_src GROUP BY k")
                .withRefreshMode(RefreshMode.DIFFERENTIAL));
        // vacuumed now, so autovacuum does not pick the freshly loaded table up while it is measured
        Sql.exec(c, "VACUUM ANALYZE noop_src");
        double[] t = new double[n];
        try {
            for (int i = 0; i < 10; i++) {
                Sql.exec(c, "CALL pgtrickle.refresh_stream_table('noop_st')"); // warm-up
            }
            for (int i = 0; i < n; i++) {
                t[i] = Sql.timed(c, "CALL pgtrickle.refresh_stream_table('noop_st')");
            }
            String action = Sql.lastAction(c, "noop_st");
            Stats.Sample s = Stats.Sample.of(t);
            ctx.progress().result(String.format(Locale.ROOT, "median %s (spread %s), action %s", Progress.ms(s.median()),
                    Progress.ms(s.spread()), action));
            return s;
        } finally {
            ctx.api().drop("noop_st", true);
            Sql.exec(c, "DROP TABLE noop_src");
        }
    }

    private Tick tick(Connection c, Scheduler scheduler, int streamTables, double createSeconds) throws SQLException {
        int n = ctx.config().quick() ? 10 : 30;
        long refreshes = 0;
        for (int i = 0; i < 3; i++) { // warm-up: caches, parsed schedules, a first refresh of anything pending
            scheduler.tick();
        }
        double[] tick = new double[n];
        double[] withWork = new double[n];
        for (int i = 0; i < n; i++) {
            long t = System.nanoTime();
            List<RefreshResult> done = scheduler.tick();
            tick[i] = Sql.millisSince(t);
            refreshes += done.size();
            withWork[i] = Sql.timed(c, "SELECT count(*) FROM pgtrickle._stream_tables_with_work()");
        }
        Tick r = new Tick(streamTables, Stats.Sample.of(tick), Stats.Sample.of(withWork), createSeconds, refreshes);
        ctx.progress().result(String.format(Locale.ROOT, "tick %s (spread %s), of which _stream_tables_with_work() %s;"
                        + " %d refreshes; creating them took %.0f s", Progress.ms(r.tickMs().median()),
                Progress.ms(r.tickMs().spread()), Progress.ms(r.withWorkMs().median()), refreshes, createSeconds));
        return r;
    }
}
