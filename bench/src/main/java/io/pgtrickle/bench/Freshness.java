package io.pgtrickle.bench;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.server.daemon.Daemon;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Commit-to-visible latency: how long after a writer's COMMIT its row can be read in a stream
 * table refreshed by the daemon ({@code pgtrickle serve}'s {@link Daemon}, started in this JVM: leader
 * election, the scheduler, and wake-ups on the capture triggers' NOTIFY).
 *
 * <p>A writer thread commits single-row INSERTs into {@code fresh_src} at a steady rate, each with
 * a marker (1, 2, …) and the moment its autocommit INSERT returned; a reader thread polls
 * {@code SELECT max(marker) FROM fresh_st} every {@value #POLL_MILLIS} ms. Since one writer
 * commits the markers in order and a refresh is snapshot-consistent, a marker is visible once the
 * maximum reaches it; its latency is the start of the first poll that saw it minus its commit.
 * The polling makes each latency up to about {@value #POLL_MILLIS} ms too large. Runs in a
 * database of its own, since the daemon schedules every stream table of its database.
 */
final class Freshness {
    static final int POLL_MILLIS = 5;
    static final int WRITES_PER_SECOND = 50;
    private static final Duration SETTLE = Duration.ofSeconds(15);

    /** Latencies in ms; unseen: markers not visible {@link #SETTLE} after the writer stopped. */
    record Result(String schedule, int writesPerSecond, double seconds, int samples, double p50Ms, double p90Ms,
                  double p99Ms, double maxMs, int unseen, long refreshes, double medianRefreshMs) {
    }

    private final BenchContext ctx;

    Freshness(BenchContext ctx) {
        this.ctx = ctx;
    }

    static List<String> schedules() {
        return List.of("1s", "100ms");
    }

    static int steps() {
        return schedules().size();
    }

    int seconds() {
        return ctx.config().quick() ? 10 : 30;
    }

    List<Result> run() throws Exception {
        ctx.progress().family("freshness", steps(), String.format(Locale.ROOT,
                "%d single-row commits/s for %d s per schedule %s, the daemon in this JVM", WRITES_PER_SECOND, seconds(),
                schedules()));
        List<Result> out = new ArrayList<>();
        try (ScratchDatabase db = ScratchDatabase.create(ctx.url(), "bench_fresh")) {
            StreamTables api = StreamTables.connect(db.url());
            api.install();
            try (Connection c = DriverManager.getConnection(db.url())) {
                Sql.exec(c, "CREATE TABLE fresh_src (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, marker bigint NOT NULL,"
                        + " written_at timestamptz NOT NULL DEFAULT clock_timestamp())");
            }
            for (String schedule : schedules()) {
                ctx.progress().step("schedule '" + schedule + "'");
                api.create(CreateOptions.of("fresh_st", "SELECT id, marker FROM fresh_src")
                        .withRefreshMode(RefreshMode.DIFFERENTIAL).withSchedule(schedule));
                Result r;
                try (Daemon daemon = Daemon.start(Daemon.Options.of(db.url()).withHttp("127.0.0.1", 0))) {
                    r = measure(db.url(), daemon, schedule);
                } finally {
                    api.drop("fresh_st", true);
                }
                ctx.progress().result(String.format(Locale.ROOT, "p50 %s  p90 %s  p99 %s  max %s  (%d commits, %d unseen;"
                                + " %d refreshes, median %s each)", Progress.ms(r.p50Ms()), Progress.ms(r.p90Ms()),
                        Progress.ms(r.p99Ms()), Progress.ms(r.maxMs()), r.samples(), r.unseen(), r.refreshes(),
                        Progress.ms(r.medianRefreshMs())));
                out.add(r);
            }
        }
        return out;
    }

    private Result measure(String url, Daemon daemon, String schedule) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!daemon.leader()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the daemon did not become leader within 30 s");
            }
            Thread.sleep(50);
        }
        int count = seconds() * WRITES_PER_SECOND;
        long[] committed = new long[count + 1];
        long[] visible = new long[count + 1];
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicBoolean reading = new AtomicBoolean(true);
        AtomicReference<Exception> failure = new AtomicReference<>();
        try (Connection w = DriverManager.getConnection(url); Connection r = DriverManager.getConnection(url)) {
            long base = Sql.number(w, "SELECT coalesce(max(marker), 0) FROM fresh_src");
            // Warm-up: one marker through the whole path before timing.
            Sql.exec(w, "INSERT INTO fresh_src (marker) VALUES (" + (base + 1) + ")");
            while (Sql.number(r, "SELECT coalesce(max(marker), 0) FROM fresh_st") < base + 1) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the stream table was not refreshed within 30 s of the first commit");
                }
                Thread.sleep(POLL_MILLIS);
            }
            long first = base + 2; // marker of index 0
            String since = Sql.string(w, "SELECT clock_timestamp()::text");
            Thread reader = new Thread(() -> {
                try (PreparedStatement ps = r.prepareStatement("SELECT coalesce(max(marker), 0) FROM fresh_st")) {
                    long seen = -1; // index
                    while (reading.get()) {
                        long t = System.nanoTime();
                        long max;
                        try (ResultSet rs = ps.executeQuery()) {
                            rs.next();
                            max = rs.getLong(1) - first;
                        }
                        for (long i = seen + 1; i <= Math.min(max, count - 1); i++) {
                            visible[(int) i] = t;
                        }
                        seen = Math.max(seen, max);
                        if (seen >= count - 1 && !writing.get()) {
                            return;
                        }
                        LockSupport.parkNanos(Duration.ofMillis(POLL_MILLIS).toNanos());
                    }
                } catch (SQLException e) {
                    failure.set(e);
                }
            }, "bench-freshness-reader");
            reader.setDaemon(true);
            reader.start();
            long start = System.nanoTime();
            long interval = 1_000_000_000L / WRITES_PER_SECOND;
            try (PreparedStatement ps = w.prepareStatement("INSERT INTO fresh_src (marker) VALUES (?)")) {
                for (int i = 0; i < count; i++) {
                    long planned = start + i * interval;
                    long wait = planned - System.nanoTime();
                    if (wait > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    ps.setLong(1, first + i);
                    ps.executeUpdate();
                    committed[i] = System.nanoTime();
                }
            }
            writing.set(false);
            double writeSeconds = Sql.millisSince(start) / 1000;
            reader.join(SETTLE.toMillis());
            reading.set(false);
            reader.join();
            if (failure.get() != null) {
                throw failure.get();
            }
            double[] latencies = new double[count];
            int seen = 0;
            int unseen = 0;
            for (int i = 0; i < count; i++) {
                if (visible[i] == 0) {
                    unseen++;
                } else {
                    latencies[seen++] = Math.max(0, visible[i] - committed[i]) / 1e6;
                }
            }
            double[] l = Arrays.copyOf(latencies, seen);
            long refreshes = Sql.number(w, "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'SCHEDULER'"
                    + " AND action <> 'NO_DATA' AND start_time >= " + Sql.literal(since) + "::timestamptz");
            String medianRefresh = Sql.string(w, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM"
                    + " end_time - start_time) * 1000) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'SCHEDULER'"
                    + " AND action <> 'NO_DATA' AND start_time >= " + Sql.literal(since) + "::timestamptz");
            if (l.length == 0) {
                throw new IllegalStateException("no marker became visible with schedule " + schedule);
            }
            return new Result(schedule, WRITES_PER_SECOND, writeSeconds, l.length, Stats.percentile(50, l),
                    Stats.percentile(90, l), Stats.percentile(99, l), Stats.percentile(100, l), unseen, refreshes,
                    medianRefresh == null ? Double.NaN : Double.parseDouble(medianRefresh));
        }
    }
}
