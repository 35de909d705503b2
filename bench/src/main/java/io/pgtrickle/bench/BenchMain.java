package io.pgtrickle.bench;

import io.pgtrickle.bench.Config.Family;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.EmbeddedPostgres;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The benchmark harness: runs the families of docs/BENCHMARK.md against an embedded PostgreSQL
 * (or {@code --url}), prints progress, writes bench/results.json and renders docs/BENCHMARK.md
 * with its charts.
 *
 * <pre>
 *   mvn -B -q -DskipTests install && mvn -B -q -pl bench exec:java                    # everything
 *   mvn -B -q -pl bench exec:java -Dexec.args="--quick"                               # a few minutes
 *   mvn -B -q -pl bench exec:java -Dexec.args="--family tpch --url jdbc:postgresql://..."
 * </pre>
 */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Stream-table benchmarks: DIFFERENTIAL vs FULL vs REFRESH MATERIALIZED VIEW [CONCURRENTLY], capture cost, "
                + "no-op refresh and scheduler tick, freshness, IMMEDIATE, TPC-H. A run of every family rewrites docs/BENCHMARK.md, "
                + "docs/bench/*.svg and bench/results.json; a partial run writes bench/target/partial-results.json.")
public final class BenchMain implements Callable<Integer> {
    private static final PrintStream OUT = System.out;

    @Option(names = "--quick", description = "Fewer rows (50,000), change rates (0.1/1/10 %%) and repetitions (3); no TPC-H unless --tpch.")
    boolean quick;

    @Option(names = "--rows", split = ",", paramLabel = "N[,N...]", hideParamSyntax = true,
            description = "Source rows of the refresh scenarios, e.g. 100000,1000000 (default 100000; 50000 with --quick). "
                    + "The first size is also used by capture, no-op and IMMEDIATE.")
    List<Integer> rows;

    @Option(names = "--url", description = "JDBC URL of the database to measure (default: start an embedded PostgreSQL).")
    String url;

    @Option(names = "--family", split = ",", paramLabel = "NAME[,NAME...]", hideParamSyntax = true,
            description = "Run only these families: refresh, capture, noop, freshness, immediate, tpch.")
    List<String> families;

    @Option(names = "--only", paramLabel = "NAME", description = "Refresh scenarios whose name contains NAME (a partial run).")
    String only;

    @Option(names = "--tpch", description = "Include TPC-H in a --quick run (a full run includes it).")
    boolean tpch;

    @Option(names = "--no-tpch", description = "Leave TPC-H out of a full run.")
    boolean noTpch;

    @Option(names = "--tpch-scale", paramLabel = "SF", description = "TPC-H scale factor (default 0.1; 0.01 with --quick).")
    Double tpchScale;

    @Option(names = "--tpch-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "A TPC-H create or refresh taking longer is cancelled and reported as too slow (default ${DEFAULT-VALUE}).")
    int tpchTimeout;

    @Option(names = "--reps", paramLabel = "N", description = "Repetitions after the warm-up (default 5; 3 with --quick).")
    Integer reps;

    @Option(names = "--rates", split = ",", paramLabel = "R[,R...]", hideParamSyntax = true,
            description = "Change rates of the refresh scenarios, fractions of the rows (default 0.001,0.01,0.1,0.5; "
                    + "0.001,0.01,0.1 with --quick).")
    List<Double> rates;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "5", description = "Warm-up repetitions of each refresh "
            + "scenario and change rate, not recorded (default ${DEFAULT-VALUE}: PostgreSQL keeps a generic plan of a "
            + "refresh's statements from their sixth execution in a session).")
    int warmup;

    @Option(names = "--pg-setting", paramLabel = "NAME=VALUE", description = "A setting for the embedded server (repeatable).")
    Map<String, String> pgSettings = new LinkedHashMap<>();

    @Option(names = "--floor", description = "Also measure each refresh scenario's write floor: PostgreSQL's own time to write"
            + " a refresh's net change by key, the least any refresh that keeps rows in place pays (a copy of the stored rows per"
            + " repetition: slower).")
    boolean floor;

    @Option(names = "--render", description = "Measure nothing: render docs/BENCHMARK.md and docs/bench/*.svg again from "
            + "bench/results.json (after changing the report or the prose between keep markers).")
    boolean render;

    @Option(names = "--merge", paramLabel = "FILE", description = "Measure nothing: fold a partial run's JSON (e.g. "
            + "bench/target/partial-results.json) into bench/results.json, replacing the refresh points of the same scenario, "
            + "rows and change rate and any other family it measured, then render docs/BENCHMARK.md again.")
    Path merge;

    @Option(names = "--immediate-only", hidden = true, description = "Old name of --family immediate.")
    boolean immediateOnly;

    private String[] args = new String[0];

    public static void main(String[] args) {
        // The server's jar brings its own logback.xml; the bench's (warnings only, to stderr) is named apart.
        System.setProperty("logback.configurationFile", "logback-bench.xml");
        BenchMain main = new BenchMain();
        main.args = args;
        int code = new CommandLine(main).execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    Config config() {
        Set<Family> chosen = EnumSet.noneOf(Family.class);
        if (immediateOnly) {
            chosen.add(Family.IMMEDIATE);
        }
        if (families != null) {
            for (String f : families) {
                try {
                    chosen.add(Family.valueOf(f.strip().toUpperCase(Locale.ROOT)));
                } catch (IllegalArgumentException e) {
                    throw new CommandLine.ParameterException(new CommandLine(this), "unknown family '" + f
                            + "': use refresh, capture, noop, freshness, immediate or tpch");
                }
            }
        }
        if (chosen.isEmpty()) {
            chosen.addAll(EnumSet.allOf(Family.class));
            if ((quick && !tpch) || noTpch) {
                chosen.remove(Family.TPCH);
            }
        }
        List<Integer> sizes = rows != null ? rows : List.of(quick ? 50_000 : 100_000);
        List<Double> rates = this.rates != null ? this.rates : quick ? List.of(0.001, 0.01, 0.1) : List.of(0.001, 0.01, 0.1, 0.5);
        if (rates.stream().anyMatch(r -> !(r > 0 && r <= 1))) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--rates: each rate is a fraction of the rows, above 0 and at most 1");
        }
        return new Config(quick, sizes, reps != null ? reps : quick ? 3 : 5, Math.max(warmup, 0), rates, chosen, only,
                tpchScale != null ? tpchScale : quick ? 0.01 : 0.1, tpchTimeout, String.join(" ", args), floor);
    }

    @Override
    public Integer call() throws Exception {
        if (merge != null) {
            Path results = Path.of("bench", "results.json");
            Report merged = ReportMerge.merge(Report.readJson(results), Report.readJson(merge));
            merged.writeJson(results);
            MarkdownReport.write(merged, Path.of("docs"));
            OUT.printf("merged %s (%s) into bench/results.json; rendered docs/BENCHMARK.md and docs/bench/*.svg%n", merge,
                    String.join(", ", ReportMerge.families(Report.readJson(merge))));
            return 0;
        }
        if (render) {
            MarkdownReport.write(Report.readJson(Path.of("bench", "results.json")), Path.of("docs"));
            OUT.println("rendered docs/BENCHMARK.md and docs/bench/*.svg from bench/results.json");
            return 0;
        }
        Config cfg = config();
        OffsetDateTime started = OffsetDateTime.now(ZoneOffset.UTC);
        Progress progress = new Progress(OUT);
        progress.note("families: %s; rows %s; %d repetitions + 1 warm-up (%d for refresh); change rates %s%s%s",
                cfg.families().stream().map(Family::label).toList(), cfg.rows(), cfg.reps(), cfg.refreshWarmup(),
                cfg.rates().stream().map(RefreshScenarios::percent).toList(),
                cfg.families().contains(Family.TPCH) ? "; TPC-H scale " + cfg.tpchScale() : "",
                cfg.only() == null ? "" : "; only refresh scenarios containing '" + cfg.only() + "'");
        progress.note("estimated duration: %s", Estimate.describe(cfg));
        EmbeddedPostgres pg = null;
        String server;
        String dbUrl = url;
        try {
            if (dbUrl == null) {
                progress.note("starting embedded PostgreSQL ...");
                EmbeddedPostgres.Builder b = EmbeddedPostgres.builder();
                pgSettings.forEach(b::setting);
                pg = b.start();
                pg.createDatabase("bench");
                dbUrl = pg.jdbcUrl("bench");
                server = "embedded PostgreSQL (bench's embedded module)";
            } else {
                server = "given by --url";
            }
            Report report;
            List<String> failed = new ArrayList<>();
            try (Connection c = DriverManager.getConnection(dbUrl)) {
                c.setAutoCommit(true);
                StreamTables api = StreamTables.connect(dbUrl);
                api.install();
                Map<String, Object> machine = Machine.describe(c, server);
                progress.note("machine: %s", machine);
                BenchContext ctx = new BenchContext(cfg, dbUrl, c, api, progress);
                report = runFamilies(ctx, machine, started, failed);
            }
            Path out;
            if (cfg.complete() && failed.isEmpty()) {
                out = Path.of("bench", "results.json");
                report.writeJson(out);
                MarkdownReport.write(report, Path.of("docs"));
                progress.note("%nwrote bench/results.json, docs/BENCHMARK.md and docs/bench/*.svg in %s",
                        Progress.clock(progress.sinceStart()));
            } else {
                out = Path.of("bench", "target", "partial-results.json");
                report.writeJson(out);
                progress.note("%npartial run: wrote %s (docs/BENCHMARK.md is rewritten by runs of every family) in %s", out,
                        Progress.clock(progress.sinceStart()));
            }
            if (!failed.isEmpty()) {
                progress.note("FAILED families: %s", failed);
                return 1;
            }
            return 0;
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    /** Runs the families; one that fails is reported in {@code failed} and the others still run. */
    private Report runFamilies(BenchContext ctx, Map<String, Object> machine, OffsetDateTime started, List<String> failed) {
        Config cfg = ctx.config();
        List<RefreshScenarios.Point> refresh = null;
        List<CaptureCost.Row> capture = null;
        NoopAndTick.Result noop = null;
        List<Freshness.Result> freshness = null;
        List<ImmediateWrites.Row> immediate = null;
        TpchBench.Result tpchResult = null;
        for (Family f : cfg.families()) {
            try {
                switch (f) {
                    case REFRESH -> refresh = new RefreshScenarios(ctx).run();
                    case CAPTURE -> capture = new CaptureCost(ctx).run();
                    case NOOP -> noop = new NoopAndTick(ctx).run();
                    case FRESHNESS -> freshness = new Freshness(ctx).run();
                    case IMMEDIATE -> immediate = new ImmediateWrites(ctx).run();
                    case TPCH -> tpchResult = new TpchBench(ctx).run();
                    default -> throw new IllegalStateException(f.name());
                }
            } catch (Exception e) {
                // One family failing must not cost the others' numbers; the run still fails at the end.
                OUT.printf("%nFAILED: family %s: %s%n", f.label(), e);
                e.printStackTrace(OUT);
                failed.add(f.label() + ": " + e.getMessage());
            }
        }
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("args", cfg.commandLine());
        run.put("kind", cfg.quick() ? "--quick" : "full run");
        run.put("started", started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")));
        run.put("durationSeconds", ctx.progress().sinceStart().toSeconds());
        run.put("commit", Estimate.gitCommit());
        run.put("rows", cfg.rows());
        run.put("firstRows", cfg.firstRows());
        run.put("repetitions", cfg.reps());
        run.put("refreshWarmup", cfg.refreshWarmup());
        run.put("changeRates", cfg.rates());
        return new Report(run, machine, refresh, capture, noop, freshness, immediate, tpchResult);
    }
}
