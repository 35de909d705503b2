package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * DIFFERENTIAL refresh vs FULL refresh vs {@code REFRESH MATERIALIZED VIEW} vs
 * {@code REFRESH MATERIALIZED VIEW CONCURRENTLY} of the same query, at several change rates,
 * all four measured after the same change batch in the same run.
 *
 * <p>Each repetition writes one change batch (half updates, a quarter deletes, a quarter inserts),
 * refreshes the stream table DIFFERENTIAL first (it must consume the batch), then the other three
 * in an order that rotates with the repetition. The first {@link Config#refreshWarmup}
 * repetitions warm up (the session's plan cache settles) and are not recorded. {@code pg_trickle.differential_max_change_ratio} and
 * {@code pg_trickle.cost_model_safety_margin} are 0 on the bench's session, so the DIFFERENTIAL
 * column is a differential refresh at every rate (by default a refresh whose changes exceed half
 * the sources, or whose like recently cost more than FULL, falls back to FULL); the actions seen
 * are recorded.
 */
final class RefreshScenarios {

    /**
     * A query measured in all four ways.
     *
     * @param uniqueKey columns of a unique index on the matview for CONCURRENTLY; null when there is none
     * @param noKey     why CONCURRENTLY is not measured, when uniqueKey is null
     */
    record Scenario(String name, String query, String uniqueKey, String noKey) {
    }

    /**
     * Medians and spreads (ms) of one scenario at one change rate; concurrently is null when not
     * measured, writeFloor and rowsWritten (the median count of stored rows a refresh deleted,
     * inserted or updated) when the run had no {@code --floor}.
     */
    record Point(String scenario, int rows, double changeRate, long changedRows, Stats.Sample differential,
                 Stats.Sample full, Stats.Sample matview, Stats.Sample concurrently, String concurrentlyNote,
                 List<String> differentialActions, Stats.Sample writeFloor, Long rowsWritten) {
        @JsonProperty("fullOverDifferential")
        double fullOverDifferential() {
            return full.median() / differential.median();
        }

        /** The most FULL / DIFF could be on this machine: FULL against the write floor; null when not measured. */
        @JsonProperty("fullOverFloor")
        Double fullOverFloor() {
            return writeFloor == null ? null : full.median() / writeFloor.median();
        }
    }

    static final List<Scenario> SCENARIOS = List.of(
            new Scenario("filter/projection", "SELECT id, v * 2 AS v2, k FROM events WHERE v % 10 = 0", "id", null),
            new Scenario("2-way join", "SELECT e.id, d.name, e.v FROM events e JOIN dims d ON d.k = e.k WHERE e.v < 500",
                    "id", null),
            new Scenario("3-way join", "SELECT e.id, d.name, r.name AS region FROM events e JOIN dims d ON d.k = e.k"
                    + " JOIN regions r ON r.id = d.k % 10 WHERE e.v < 500", "id", null),
            new Scenario("LEFT JOIN, null-supplying side changes", "SELECT d.k, d.name, e.id, e.v FROM dims d"
                    + " LEFT JOIN events e ON e.k = d.k AND e.v < 100", "k, id", null),
            new Scenario("EXISTS (semi join)", "SELECT d.k, d.name FROM dims d WHERE EXISTS"
                    + " (SELECT 1 FROM events e WHERE e.k = d.k AND e.v < 5)", "k", null),
            new Scenario("GROUP BY, many groups", "SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k", "k", null),
            new Scenario("GROUP BY, few groups", "SELECT k % 10 AS bucket, count(*) AS n, avg(v) AS mean FROM events"
                    + " GROUP BY k % 10", "bucket", null),
            new Scenario("MIN/MAX under deletes", "SELECT k, min(v) AS lo, max(v) AS hi FROM events GROUP BY k", "k", null),
            new Scenario("MIN/MAX, distinct values per group", "SELECT k, min(w) AS lo, max(w) AS hi FROM events GROUP BY k",
                    "k", null),
            new Scenario("DISTINCT", "SELECT DISTINCT k, v % 7 AS r FROM events", "k, r", null));

    private final BenchContext ctx;
    private long nextId = 100_000_000L;

    RefreshScenarios(BenchContext ctx) {
        this.ctx = ctx;
    }

    static List<Scenario> selected(Config config) {
        return SCENARIOS.stream().filter(s -> config.only() == null || s.name().contains(config.only())).toList();
    }

    static int steps(Config config) {
        return selected(config).size() * config.rates().size() * config.rows().size();
    }

    List<Point> run() throws SQLException {
        Config cfg = ctx.config();
        Connection c = ctx.conn();
        List<Scenario> scenarios = selected(cfg);
        ctx.progress().family("refresh", steps(cfg), String.format(Locale.ROOT,
                "%d scenarios x %d change rates x %s rows, %d repetitions + %d warm-up each", scenarios.size(),
                cfg.rates().size(), cfg.rows(), cfg.reps(), cfg.refreshWarmup()));
        Sql.exec(c, "SET pg_trickle.differential_max_change_ratio = 0");
        Sql.exec(c, "SET pg_trickle.cost_model_safety_margin = 0");
        List<Point> out = new ArrayList<>();
        try {
            for (int rows : cfg.rows()) {
                long t = System.nanoTime();
                EventsSchema.load(c, rows);
                ctx.progress().note("loaded events with %,d rows in %.1f s", rows, Sql.millisSince(t) / 1000);
                int n = 0;
                for (Scenario s : scenarios) {
                    String st = "bench_st" + n;
                    String mv = "bench_mv" + n;
                    String mvc = "bench_mvc" + n++;
                    ctx.api().create(CreateOptions.of(st, s.query()).withRefreshMode(RefreshMode.DIFFERENTIAL));
                    Sql.exec(c, "CREATE MATERIALIZED VIEW " + mv + " AS " + s.query());
                    if (s.uniqueKey() != null) {
                        Sql.exec(c, "CREATE MATERIALIZED VIEW " + mvc + " AS " + s.query());
                        Sql.exec(c, "CREATE UNIQUE INDEX ON " + mvc + " (" + s.uniqueKey() + ")");
                    }
                    for (double rate : cfg.rates()) {
                        out.add(measure(s, st, mv, s.uniqueKey() == null ? null : mvc, rows, rate));
                    }
                    ctx.api().drop(st, true);
                    Sql.exec(c, "DROP MATERIALIZED VIEW " + mv);
                    Sql.exec(c, "DROP MATERIALIZED VIEW IF EXISTS " + mvc);
                    Sql.exec(c, "VACUUM ANALYZE events");
                }
            }
        } finally {
            Sql.exec(c, "RESET pg_trickle.differential_max_change_ratio");
            Sql.exec(c, "RESET pg_trickle.cost_model_safety_margin");
        }
        return out;
    }

    private Point measure(Scenario s, String st, String mv, String mvc, int rows, double rate) throws SQLException {
        Connection c = ctx.conn();
        int reps = ctx.config().reps();
        long changed = Math.max(4, Math.round(rows * rate));
        ctx.progress().step(String.format(Locale.ROOT, "%s @ %s (%,d rows of %,d)", s.name(), percent(rate), changed, rows));
        double[] diff = new double[reps];
        double[] full = new double[reps];
        double[] matview = new double[reps];
        double[] concurrently = new double[reps];
        double[] floor = new double[reps];
        double[] written = new double[reps];
        WriteFloor writeFloor = ctx.config().floor() ? new WriteFloor(c) : null;
        TreeSet<String> actions = new TreeSet<>();
        List<String> others = new ArrayList<>(List.of("FULL", "MV", "MVC"));
        if (mvc == null) {
            others.remove("MVC");
        }
        for (int rep = -ctx.config().refreshWarmup(); rep < reps; rep++) {  // negative reps warm up
            change(c, changed, rep);
            double d = Sql.timed(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ")");
            String action = Sql.lastAction(c, st);
            if (rep >= 0) {
                diff[rep] = d;
                actions.add(action);
            }
            // FULL and the matviews recompute everything whatever the change: their order rotates.
            for (int i = 0; i < others.size(); i++) {
                String which = others.get(Math.floorMod(rep + i, others.size()));
                double ms = switch (which) {
                    case "FULL" -> Sql.timed(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ", force_full => true)");
                    case "MV" -> Sql.timed(c, "REFRESH MATERIALIZED VIEW " + mv);
                    default -> Sql.timed(c, "REFRESH MATERIALIZED VIEW CONCURRENTLY " + mvc);
                };
                if (rep >= 0) {
                    switch (which) {
                        case "FULL" -> full[rep] = ms;
                        case "MV" -> matview[rep] = ms;
                        default -> concurrently[rep] = ms;
                    }
                }
            }
        }
        // After the timed repetitions: its copies and its rolled-back writes would slow the refreshes after them.
        if (writeFloor != null) {
            for (int rep = 0; rep < reps; rep++) {
                change(c, changed, reps + rep);
                writeFloor.before(st);
                Sql.exec(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ")");
                WriteFloor.Measured m = writeFloor.measure(st);
                floor[rep] = m.millis();
                written[rep] = m.rows();
            }
        }
        Point p = new Point(s.name(), rows, rate, changed, Stats.Sample.of(diff), Stats.Sample.of(full),
                Stats.Sample.of(matview), mvc == null ? null : Stats.Sample.of(concurrently), mvc == null ? s.noKey() : null,
                List.copyOf(actions), writeFloor == null ? null : Stats.Sample.of(floor),
                writeFloor == null ? null : Math.round(Stats.median(written)));
        ctx.progress().result(String.format(Locale.ROOT, "DIFF %s  FULL %s  matview %s  CONCURRENTLY %s  FULL/DIFF %.1fx%s",
                Progress.ms(p.differential().median()), Progress.ms(p.full().median()), Progress.ms(p.matview().median()),
                p.concurrently() == null ? "n/a" : Progress.ms(p.concurrently().median()), p.fullOverDifferential(),
                actions.equals(new TreeSet<>(List.of("DIFFERENTIAL"))) ? "" : " (DIFF actions: " + actions + ")")
                + (p.writeFloor() == null ? "" : String.format(Locale.ROOT, "  write floor %s (%,d rows)  FULL/floor %.1fx",
                        Progress.ms(p.writeFloor().median()), p.rowsWritten(), p.fullOverFloor())));
        return p;
    }

    /** Half updates, a quarter deletes, a quarter inserts; which rows depends on the repetition. */
    private void change(Connection c, long changed, int seed) throws SQLException {
        long updates = changed / 2;
        long deletes = changed / 4;
        long inserts = changed - updates - deletes;
        Sql.exec(c, "UPDATE events SET v = (v + 1) % 1000, w = (w + 1) % 1000 WHERE id IN (SELECT id FROM events ORDER BY (id * " + (seed + 31)
                + ") % 1000003 LIMIT " + updates + ")");
        Sql.exec(c, "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY (id * " + (seed + 17) + ") % 999983 LIMIT "
                + deletes + ")");
        Sql.exec(c, "INSERT INTO events SELECT g, " + EventsSchema.COLUMNS + ", 'new'"
                + " FROM generate_series(" + nextId + ", " + (nextId + inserts - 1) + ") g");
        nextId += inserts;
    }

    static String percent(double rate) {
        double p = rate * 100;
        return (p == Math.rint(p) ? String.format(Locale.ROOT, "%.0f", p) : String.format(Locale.ROOT, "%.1f", p)) + " %";
    }
}
