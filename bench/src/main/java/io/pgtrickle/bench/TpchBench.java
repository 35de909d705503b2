package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgtrickle.bench.tpch.TpchChangeBatch;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.tpch.TpchLoader;
import io.pgtrickle.core.tpch.TpchQueries;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * TPC-H: per query, a DIFFERENTIAL refresh after a batch of changes to about 1 % of the data
 * ({@link TpchChangeBatch}) against a FULL refresh of the same stream table, and the geometric
 * mean of FULL/DIFF over the queries measured. Each of the 22 queries is one DIFFERENTIAL stream
 * table; after each batch (one transaction) every stream table is refreshed DIFFERENTIAL, then
 * FULL ({@code force_full}). The first batch warms up. A query the engine refuses as DIFFERENTIAL,
 * or whose create or refresh runs longer than the timeout, is reported as such and left out of
 * the mean. Runs in a database of its own, dropped afterwards.
 *
 * <p>Both measured refreshes run with the FULL fallbacks off (the change-ratio fallback and the
 * cost guard), so DIFF is always differential. Then a few more batches are refreshed once each
 * with the default settings, as a user's would be: the cost guard, which reads the history the
 * measured batches left, picks FULL where the differential refreshes cost more.
 */
final class TpchBench {
    /** One query; status is "measured", "refused", "too slow" or "failed", with the reason in note. */
    record Query(String name, String title, String status, String note, Stats.Sample differential, Stats.Sample full,
                 List<String> differentialActions, long rowsChangedPerBatch, Stats.Sample defaults,
                 List<String> defaultActions) {
        @JsonProperty("fullOverDifferential")
        Double fullOverDifferential() {
            return differential == null ? null : full.median() / differential.median();
        }

        /** FULL against a refresh with the default settings; null when not measured (older runs too). */
        @JsonProperty("fullOverDefault")
        Double fullOverDefault() {
            return differential == null || defaults == null ? null : full.median() / defaults.median();
        }
    }

    record Result(double scale, Map<String, Long> rows, double loadSeconds, int batches, List<Query> queries,
                  Double geometricMean, int measured, Integer defaultBatches, Double defaultGeometricMean) {
    }

    private final BenchContext ctx;

    TpchBench(BenchContext ctx) {
        this.ctx = ctx;
    }

    /** One step per create, one per change batch (the warm-up's included). */
    static int steps(Config cfg) {
        return 22 + reps(cfg) + 1 + defaultReps(cfg);
    }

    private static int reps(Config cfg) {
        return cfg.quick() ? 2 : 3;
    }

    private static int defaultReps(Config cfg) {
        return cfg.quick() ? 1 : 2;
    }

    Result run() throws SQLException {
        Config cfg = ctx.config();
        int reps = reps(cfg);
        ctx.progress().family("tpch", steps(cfg), String.format(Locale.ROOT, "scale %s, 22 DIFFERENTIAL stream tables, %d change"
                + " batches of ~1 %% + 1 warm-up, DIFF then FULL refresh of each; timeout %d s",
                cfg.tpchScale(), reps, cfg.tpchTimeoutSeconds()));
        try (ScratchDatabase db = ScratchDatabase.create(ctx.url(), "bench_tpch");
             Connection c = DriverManager.getConnection(db.url())) {
            long t = System.nanoTime();
            Sql.exec(c, TpchChangeBatch.FUNCTION);
            Map<String, Long> rows = TpchLoader.load(c, cfg.tpchScale());
            // the loader analyses; a vacuum besides sets the visibility map, as a long-loaded database has it
            Sql.exec(c, "VACUUM " + String.join(", ", rows.keySet()));
            double loadSeconds = Sql.millisSince(t) / 1000;
            ctx.progress().note("loaded TPC-H scale %s in %.0f s: %s", cfg.tpchScale(), loadSeconds, rows);
            StreamTables api = StreamTables.connect(withTimeout(db.url(), cfg.tpchTimeoutSeconds()));
            api.install();
            Sql.exec(c, "SET pg_trickle.differential_max_change_ratio = 0");
            Sql.exec(c, "SET pg_trickle.cost_model_safety_margin = 0");
            Sql.exec(c, "SET statement_timeout = '" + cfg.tpchTimeoutSeconds() + "s'");

            List<TpchQueries.Query> queries = TpchQueries.all();
            Map<String, String> excluded = new LinkedHashMap<>(); // name -> status: note
            List<String> live = new ArrayList<>();
            for (TpchQueries.Query q : queries) {
                String st = q.name() + "_diff";
                long ct = System.nanoTime();
                ctx.progress().step("create " + st + " (" + q.title().replaceFirst("^TPC-H Q\\d+, ", "") + ")");
                try {
                    api.create(CreateOptions.of(st, q.sql()).withRefreshMode(RefreshMode.DIFFERENTIAL));
                    live.add(q.name());
                    ctx.progress().result(String.format(Locale.ROOT, "%.1f s", Sql.millisSince(ct) / 1000));
                } catch (PgtException e) {
                    String why = e.getMessage();
                    if (e.code() == ErrorCode.UNSUPPORTED_QUERY) {
                        excluded.put(q.name(), "refused: " + why);
                    } else if (isTimeout(e)) {
                        excluded.put(q.name(), "too slow: create (initial population) ran over " + cfg.tpchTimeoutSeconds() + " s");
                    } else {
                        excluded.put(q.name(), "failed: create: " + why);
                    }
                    ctx.progress().result("not measured: " + excluded.get(q.name()));
                }
            }

            Map<String, double[]> diff = new LinkedHashMap<>();
            Map<String, double[]> full = new LinkedHashMap<>();
            Map<String, TreeSet<String>> actions = new LinkedHashMap<>();
            Map<String, Long> changedRows = new LinkedHashMap<>();
            for (String q : live) {
                diff.put(q, new double[reps]);
                full.put(q, new double[reps]);
                actions.put(q, new TreeSet<>());
                changedRows.put(q, 0L);
            }
            for (int batch = -1; batch < reps; batch++) {  // -1 warms up
                long bt = System.nanoTime();
                ctx.progress().step(String.format(Locale.ROOT, "batch %d%s: apply, then DIFF and FULL refresh of %d stream tables",
                        batch + 1, batch < 0 ? " (warm-up)" : "", live.size()));
                applyBatch(c, batch + 1);
                double applied = Sql.millisSince(bt) / 1000;
                double diffTotal = 0;
                double fullTotal = 0;
                for (String q : List.copyOf(live)) {
                    String st = q + "_diff";
                    try {
                        double d = Sql.timed(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ")");
                        String action = Sql.lastAction(c, st);
                        long rowsChanged = Sql.number(c, "SELECT h.rows_inserted + h.rows_deleted FROM pgtrickle.pgt_refresh_history h"
                                + " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = " + Sql.literal(st)
                                + " ORDER BY h.refresh_id DESC LIMIT 1");
                        double f = Sql.timed(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ", force_full => true)");
                        diffTotal += d;
                        fullTotal += f;
                        if (batch >= 0) {
                            diff.get(q)[batch] = d;
                            full.get(q)[batch] = f;
                            actions.get(q).add(action);
                            changedRows.merge(q, rowsChanged, Long::sum);
                        }
                    } catch (SQLException e) {
                        String status = "57014".equals(e.getSQLState())
                                ? "too slow: a refresh ran over " + cfg.tpchTimeoutSeconds() + " s"
                                : "failed: refresh: " + e.getMessage();
                        excluded.put(q, status);
                        live.remove(q);
                        ctx.progress().note("%s dropped from the run: %s", st, status);
                        try {
                            api.drop(st, true);
                        } catch (RuntimeException dropFailed) {
                            ctx.progress().note("  (drop failed: %s)", dropFailed.getMessage());
                        }
                    }
                }
                ctx.progress().result(String.format(Locale.ROOT, "applied in %.1f s; DIFF refreshes %s, FULL refreshes %s in all",
                        applied, Progress.ms(diffTotal), Progress.ms(fullTotal)));
            }

            Map<String, double[]> defaults = measureDefaults(c, live, defaultReps(cfg), reps + 1);

            List<Query> out = new ArrayList<>();
            List<Double> ratios = new ArrayList<>();
            List<Double> defaultRatios = new ArrayList<>();
            for (TpchQueries.Query q : queries) {
                String label = String.format("%-40s", q.name() + " " + q.title().replaceFirst("^TPC-H Q\\d+, ", ""));
                Query r;
                if (live.contains(q.name())) {
                    double[] d = defaults.get(q.name());
                    r = new Query(q.name(), q.title(), "measured", null, Stats.Sample.of(diff.get(q.name())),
                            Stats.Sample.of(full.get(q.name())), List.copyOf(actions.get(q.name())),
                            changedRows.get(q.name()) / reps, d == null ? null : Stats.Sample.of(d),
                            d == null ? List.of() : List.copyOf(defaultActions.get(q.name())));
                    ratios.add(r.fullOverDifferential());
                    if (r.fullOverDefault() != null) {
                        defaultRatios.add(r.fullOverDefault());
                    }
                    ctx.progress().note("  %s DIFF %s  FULL %s  FULL/DIFF %.1fx  default %s %s  (%d rows changed per batch%s)", label,
                            Progress.ms(r.differential().median()), Progress.ms(r.full().median()), r.fullOverDifferential(),
                            r.defaults() == null ? "n/a" : Progress.ms(r.defaults().median()), r.defaultActions(),
                            r.rowsChangedPerBatch(),
                            r.differentialActions().equals(List.of("DIFFERENTIAL")) ? "" : ", DIFF actions " + r.differentialActions());
                } else {
                    String e = excluded.get(q.name());
                    int colon = e.indexOf(':');
                    r = new Query(q.name(), q.title(), e.substring(0, colon), e.substring(colon + 1).strip(), null, null,
                            List.of(), 0, null, List.of());
                    ctx.progress().note("  %s %s", label, e);
                }
                out.add(r);
            }
            Double geo = ratios.isEmpty() ? null : Stats.geometricMean(ratios);
            if (geo != null) {
                ctx.progress().note("TPC-H geometric mean of FULL/DIFF over %d queries: %.2fx", ratios.size(), geo);
            }
            Double defaultGeo = defaultRatios.isEmpty() || defaultRatios.size() != ratios.size() ? null
                    : Stats.geometricMean(defaultRatios);
            if (defaultGeo != null) {
                ctx.progress().note("TPC-H geometric mean of FULL/default refresh over %d queries: %.2fx", defaultRatios.size(),
                        defaultGeo);
            }
            return new Result(cfg.tpchScale(), rows, loadSeconds, reps, out, geo, ratios.size(), defaultReps(cfg), defaultGeo);
        }
    }

    private final Map<String, TreeSet<String>> defaultActions = new LinkedHashMap<>();

    /**
     * Refreshes every stream table once per batch with the default settings (fallbacks on); a query
     * whose refresh fails here has no default cell (null), the measured cells stay.
     */
    private Map<String, double[]> measureDefaults(Connection c, List<String> live, int batches, int firstBatch)
            throws SQLException {
        Sql.exec(c, "RESET pg_trickle.differential_max_change_ratio");
        Sql.exec(c, "RESET pg_trickle.cost_model_safety_margin");
        Map<String, double[]> times = new LinkedHashMap<>();
        for (String q : live) {
            times.put(q, new double[batches]);
            defaultActions.put(q, new TreeSet<>());
        }
        for (int batch = 0; batch < batches; batch++) {
            ctx.progress().step(String.format(Locale.ROOT, "batch %d: apply, then one refresh of each with the default settings",
                    firstBatch + batch));
            applyBatch(c, firstBatch + batch);
            double total = 0;
            for (String q : live) {
                if (!times.containsKey(q)) {
                    continue;
                }
                String st = q + "_diff";
                try {
                    double d = Sql.timed(c, "CALL pgtrickle.refresh_stream_table(" + Sql.literal(st) + ")");
                    times.get(q)[batch] = d;
                    defaultActions.get(q).add(Sql.lastAction(c, st));
                    total += d;
                } catch (SQLException e) {
                    ctx.progress().note("%s: refresh with the default settings failed: %s", st, e.getMessage());
                    times.remove(q);
                }
            }
            ctx.progress().result("refreshes " + Progress.ms(total) + " in all");
        }
        return times;
    }

    private static void applyBatch(Connection c, int batch) throws SQLException {
        long maxKey = Sql.number(c, "SELECT max(o_orderkey) FROM orders");
        c.setAutoCommit(false);
        try {
            for (String sql : TpchChangeBatch.statements(batch, maxKey)) {
                Sql.exec(c, sql);
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static boolean isTimeout(PgtException e) {
        Throwable t = e;
        while (t != null) {
            if (t instanceof SQLException s && "57014".equals(s.getSQLState())) {
                return true;
            }
            t = t.getCause();
        }
        return "57014".equals(e.sqlState());
    }

    /** The URL with a statement timeout for every session the Java API opens (creates populate the stream table). */
    private static String withTimeout(String url, int seconds) {
        return url + (url.contains("?") ? "&" : "?") + "options=-c%20statement_timeout%3D" + seconds + "s";
    }
}
