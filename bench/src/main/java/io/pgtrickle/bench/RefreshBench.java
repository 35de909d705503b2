package io.pgtrickle.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Refresh and capture benchmarks, every comparison measured in the same run and alternated:
 * DIFFERENTIAL refresh vs FULL refresh vs {@code REFRESH MATERIALIZED VIEW} of the same query, for
 * several change rates; capture cost per written row; the cost of a refresh that finds nothing.
 *
 * <pre>
 *   mvn -B -q -DskipTests install && mvn -B -q -pl bench exec:java -Dexec.args="--quick"
 *   mvn -B -q -pl bench exec:java -Dexec.args="--rows 1000000 --url jdbc:postgresql://..."
 * </pre>
 * Results go to {@code bench/results.json} and {@code docs/BENCHMARK.md}.
 */
public final class RefreshBench {
    private static final PrintStream OUT = System.out;

    /** A query measured in all three ways. */
    record Scenario(String name, String query) {
    }

    /** Medians (and spread: max - min) of one scenario at one change rate, in milliseconds. */
    record Measurement(String scenario, double changeRate, long changedRows, double differentialMs, double fullMs,
                       double matviewMs, double differentialSpreadMs, double fullSpreadMs, double matviewSpreadMs) {
        double fullOverDifferential() {
            return fullMs / differentialMs;
        }
    }

    record Capture(String statement, double plainMicrosPerRow, double capturedMicrosPerRow) {
        double amplification() {
            return capturedMicrosPerRow / plainMicrosPerRow;
        }
    }

    /** Single-row UPDATEs of the source with and without an IMMEDIATE stream table over it. */
    record ImmediateWrite(String streamTable, String lockMode, double plainMicros, double immediateMicros) {
        public double overhead() {
            return immediateMicros / plainMicros;
        }
    }

    static final List<Scenario> IMMEDIATE_SCENARIOS = List.of(
            new Scenario("filter/projection (keyed)", "SELECT id, v, k FROM events WHERE v % 10 = 0"),
            new Scenario("2-way join", "SELECT e.id, d.name, e.v FROM events e JOIN dims d ON d.k = e.k WHERE e.v < 500"),
            new Scenario("GROUP BY, many groups", "SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k"));

    record Report(Map<String, Object> machine, List<Measurement> refresh, List<Capture> capture, double noopRefreshMs,
                  List<ImmediateWrite> immediate) {
    }

    static final List<Scenario> SCENARIOS = List.of(
            new Scenario("filter/projection", "SELECT id, v * 2 AS v2, k FROM events WHERE v % 10 = 0"),
            new Scenario("2-way join", "SELECT e.id, d.name, e.v FROM events e JOIN dims d ON d.k = e.k WHERE e.v < 500"),
            new Scenario("3-way join", "SELECT e.id, d.name, r.name AS region FROM events e JOIN dims d ON d.k = e.k"
                    + " JOIN regions r ON r.id = d.k % 10 WHERE e.v < 500"),
            new Scenario("LEFT JOIN, null-supplying side changes", "SELECT d.k, d.name, e.id, e.v FROM dims d"
                    + " LEFT JOIN events e ON e.k = d.k AND e.v < 100"),
            new Scenario("EXISTS (semi join)", "SELECT d.k, d.name FROM dims d WHERE EXISTS"
                    + " (SELECT 1 FROM events e WHERE e.k = d.k AND e.v < 5)"),
            new Scenario("GROUP BY, many groups", "SELECT k, count(*) AS n, sum(v) AS total FROM events GROUP BY k"),
            new Scenario("GROUP BY, few groups", "SELECT k % 10 AS bucket, count(*) AS n, avg(v) AS mean FROM events GROUP BY k % 10"),
            new Scenario("MIN/MAX under deletes", "SELECT k, min(v) AS lo, max(v) AS hi FROM events GROUP BY k"),
            new Scenario("DISTINCT", "SELECT DISTINCT k, v % 7 AS r FROM events"));

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("--quick");
        int rows = intArg(args, "--rows", quick ? 50_000 : 100_000);
        int reps = quick ? 3 : 5;
        double[] rates = quick ? new double[] {0.001, 0.01, 0.1} : new double[] {0.001, 0.01, 0.1, 0.5};
        String url = stringArg(args, "--url", null);
        EmbeddedPostgres pg = null;
        if (url == null) {
            OUT.println("starting embedded PostgreSQL ...");
            pg = EmbeddedPostgres.builder().start();
            pg.createDatabase("bench");
            url = pg.jdbcUrl("bench");
        }
        try (Connection c = DriverManager.getConnection(url)) {
            StreamTables api = StreamTables.connect(url);
            api.install();
            Map<String, Object> machine = machine(c, rows);
            OUT.println("machine: " + machine);
            setUp(c, rows);
            List<Measurement> refresh = new ArrayList<>();
            int n = 0;
            // --only NAME: the scenarios whose name contains NAME, printed but not recorded (a partial run)
            String only = stringArg(args, "--only", null);
            if (Arrays.asList(args).contains("--immediate-only")) {  // printed, not recorded
                immediate(c, api, rows, quick ? 300 : 1_000);
                return;
            }
            for (Scenario s : SCENARIOS.stream().filter(x -> only == null || x.name().contains(only)).toList()) {
                String st = "st" + n;
                String mv = "mv" + n++;
                api.create(CreateOptions.of(st, s.query()).withRefreshMode(RefreshMode.DIFFERENTIAL));
                exec(c, "CREATE MATERIALIZED VIEW " + mv + " AS " + s.query());
                for (double rate : rates) {
                    Measurement m = measure(c, s, st, mv, rows, rate, reps);
                    refresh.add(m);
                    OUT.printf("%-24s %5.1f%% (%7d rows)  differential %8.1f ms  full %8.1f ms  matview %8.1f ms  full/diff %6.1fx%n",
                            s.name(), rate * 100, m.changedRows(), m.differentialMs(), m.fullMs(), m.matviewMs(),
                            m.fullOverDifferential());
                }
                api.drop(st, true);
                exec(c, "DROP MATERIALIZED VIEW " + mv);
            }
            if (only != null) {
                return;
            }
            List<ImmediateWrite> immediate = immediate(c, api, rows, quick ? 300 : 1_000);
            List<Capture> capture = capture(c, api, quick ? 1_000 : 3_000, quick ? 10_000 : 50_000);
            double noop = noopRefresh(c, api);
            OUT.printf("no-op refresh: %.2f ms%n", noop);
            Report report = new Report(machine, refresh, capture, noop, immediate);
            write(report, String.join(" ", args));
        } finally {
            if (pg != null) {
                pg.close();
            }
        }
    }

    private static void setUp(Connection c, int rows) throws SQLException {
        OUT.printf("loading %,d rows ...%n", rows);
        exec(c, "DROP TABLE IF EXISTS events, dims, regions CASCADE");
        exec(c, "CREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL)");
        exec(c, "INSERT INTO regions SELECT g, 'region ' || g FROM generate_series(0, 9) g");
        exec(c, "CREATE TABLE dims (k int PRIMARY KEY, name text NOT NULL)");
        exec(c, "INSERT INTO dims SELECT g, 'dim ' || g FROM generate_series(0, 9999) g");
        exec(c, "CREATE TABLE events (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, pad text)");
        exec(c, "INSERT INTO events SELECT g, (g::bigint * 7919) % 10000, (g::bigint * 104729) % 1000, repeat('x', 40) FROM generate_series(1, "
                + rows + ") g");
        exec(c, "CREATE INDEX ON events (k)");
        exec(c, "ANALYZE events");
        exec(c, "ANALYZE dims");
        exec(c, "ANALYZE regions");
    }

    /**
     * One change batch per repetition (half updates, a quarter deletes, a quarter inserts), then the
     * three refreshes in rotating order so that none is always first after the write.
     */
    private static Measurement measure(Connection c, Scenario s, String st, String mv, int rows, double rate, int reps)
            throws SQLException {
        long changed = Math.max(4, Math.round(rows * rate));
        double[] diff = new double[reps];
        double[] full = new double[reps];
        double[] matview = new double[reps];
        for (int rep = -1; rep < reps; rep++) {  // rep -1 warms up
            change(c, changed, rep);
            // The differential refresh must run right after the change (it consumes it); FULL and
            // the matview recompute everything whatever the change, so their order rotates.
            double d = timed(c, "CALL pgtrickle.refresh_stream_table('" + st + "')");
            double f;
            double m;
            if (rep % 2 == 0) {
                f = timed(c, "CALL pgtrickle.refresh_stream_table('" + st + "', force_full => true)");
                m = timed(c, "REFRESH MATERIALIZED VIEW " + mv);
            } else {
                m = timed(c, "REFRESH MATERIALIZED VIEW " + mv);
                f = timed(c, "CALL pgtrickle.refresh_stream_table('" + st + "', force_full => true)");
            }
            if (rep >= 0) {
                diff[rep] = d;
                full[rep] = f;
                matview[rep] = m;
            }
        }
        return new Measurement(s.name(), rate, changed, median(diff), median(full), median(matview), spread(diff),
                spread(full), spread(matview));
    }

    private static long nextId = 10_000_000L;

    private static void change(Connection c, long changed, int seed) throws SQLException {
        long updates = changed / 2;
        long deletes = changed / 4;
        long inserts = changed - updates - deletes;
        exec(c, "UPDATE events SET v = (v + 1) % 1000 WHERE id IN (SELECT id FROM events ORDER BY (id * " + (seed + 31)
                + ") % 1000003 LIMIT " + updates + ")");
        exec(c, "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY (id * " + (seed + 17) + ") % 999983 LIMIT "
                + deletes + ")");
        exec(c, "INSERT INTO events SELECT g, (g::bigint * 7919) % 10000, (g::bigint * 104729) % 1000, 'new' FROM generate_series("
                + nextId + ", " + (nextId + inserts - 1) + ") g");
        nextId += inserts;
    }

    /** Per-row cost of single-row statements and of one bulk INSERT, without and with capture. */
    private static List<Capture> capture(Connection c, StreamTables api, int singles, int bulk) throws SQLException {
        OUT.println("measuring capture cost ...");
        exec(c, "DROP TABLE IF EXISTS cap_plain, cap_tracked CASCADE");
        exec(c, "CREATE TABLE cap_plain (id bigint PRIMARY KEY, v int, s text)");
        exec(c, "CREATE TABLE cap_tracked (id bigint PRIMARY KEY, v int, s text)");
        api.create(CreateOptions.of("cap_st", "SELECT v, count(*) AS n FROM cap_tracked GROUP BY v"));
        List<Capture> out = new ArrayList<>();
        double[] plain = new double[3];
        double[] tracked = new double[3];
        for (String kind : List.of("INSERT", "UPDATE", "DELETE")) {
            for (int round = 0; round < 3; round++) {
                plain[round] = singleRows(c, "cap_plain", kind, singles, round);
                tracked[round] = singleRows(c, "cap_tracked", kind, singles, round);
            }
            out.add(new Capture("single-row " + kind, median(plain) * 1000 / singles, median(tracked) * 1000 / singles));
            if (kind.equals("INSERT")) {
                exec(c, "TRUNCATE cap_plain");
                exec(c, "DELETE FROM cap_tracked");
            }
        }
        for (int round = 0; round < 3; round++) {
            exec(c, "TRUNCATE cap_plain");
            exec(c, "DELETE FROM cap_tracked");
            exec(c, "CALL pgtrickle.refresh_stream_table('cap_st')");
            String insert = " SELECT g, g % 100, 'row' FROM generate_series(1, " + bulk + ") g";
            if (round % 2 == 0) {
                plain[round] = timed(c, "INSERT INTO cap_plain" + insert);
                tracked[round] = timed(c, "INSERT INTO cap_tracked" + insert);
            } else {
                tracked[round] = timed(c, "INSERT INTO cap_tracked" + insert);
                plain[round] = timed(c, "INSERT INTO cap_plain" + insert);
            }
        }
        out.add(new Capture("bulk INSERT of " + bulk + " rows", median(plain) * 1000 / bulk, median(tracked) * 1000 / bulk));
        api.drop("cap_st", true);
        return out;
    }

    /** Milliseconds for {@code count} single-row statements of one kind. */
    private static double singleRows(Connection c, String table, String kind, int count, int round) throws SQLException {
        String sql = switch (kind) {
            case "INSERT" -> "INSERT INTO " + table + " VALUES (?, 1, 'x')";
            case "UPDATE" -> "UPDATE " + table + " SET v = v + 1 WHERE id = ?";
            default -> "DELETE FROM " + table + " WHERE id = ?";
        };
        long base = kind.equals("INSERT") ? (long) round * count : 0;
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < count; i++) {
                ps.setLong(1, kind.equals("DELETE") ? (long) round * count + i : base + i);
                ps.executeUpdate();
            }
        }
        return (System.nanoTime() - start) / 1e6;
    }

    /**
     * The cost IMMEDIATE adds to a writer: single-row UPDATEs of random rows of {@code events}, timed
     * without any stream table and with one IMMEDIATE stream table, alternating, median of 3 rounds.
     */
    static List<ImmediateWrite> immediate(Connection c, StreamTables api, int rows, int updates) throws SQLException {
        OUT.printf("measuring IMMEDIATE write overhead (%d single-row UPDATEs of %,d rows) ...%n", updates, rows);
        List<ImmediateWrite> out = new ArrayList<>();
        for (Scenario s : IMMEDIATE_SCENARIOS) {
            double[] plain = new double[3];
            double[] maintained = new double[3];
            String mode = "";
            for (int round = 0; round < 3; round++) {
                plain[round] = randomUpdates(c, rows, updates, round);
                api.create(CreateOptions.of("imm_st", s.query()).withRefreshMode(RefreshMode.IMMEDIATE));
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                        "SELECT ivm_lock_mode FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'imm_st'")) {
                    rs.next();
                    mode = rs.getString(1);
                }
                maintained[round] = randomUpdates(c, rows, updates, round + 10);
                api.drop("imm_st", false);
            }
            ImmediateWrite w = new ImmediateWrite(s.name(), mode, median(plain) * 1000 / updates,
                    median(maintained) * 1000 / updates);
            out.add(w);
            OUT.printf("IMMEDIATE %-26s lock %-9s  plain %7.1f µs  with stream table %8.1f µs  %5.1fx%n",
                    w.streamTable(), w.lockMode(), w.plainMicros(), w.immediateMicros(), w.overhead());
        }
        return out;
    }

    private static double randomUpdates(Connection c, int rows, int count, int seed) throws SQLException {
        java.util.Random random = new java.util.Random(seed);
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement("UPDATE events SET v = (v + 1) % 1000 WHERE id = ?")) {
            for (int i = 0; i < count; i++) {
                ps.setLong(1, 1 + random.nextInt(rows));
                ps.executeUpdate();
            }
        }
        return (System.nanoTime() - start) / 1e6;
    }

    private static double noopRefresh(Connection c, StreamTables api) throws SQLException {
        api.create(CreateOptions.of("noop_st", "SELECT k, count(*) AS n FROM events GROUP BY k"));
        double[] t = new double[30];
        for (int i = 0; i < t.length; i++) {
            t[i] = timed(c, "CALL pgtrickle.refresh_stream_table('noop_st')");
        }
        api.drop("noop_st", true);
        return median(t);
    }

    private static Map<String, Object> machine(Connection c, int rows) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("memory_gib", Math.round(((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() / (1024.0 * 1024 * 1024)));
        m.put("java", System.getProperty("java.version"));
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT current_setting('server_version'), current_setting('shared_buffers'), current_setting('work_mem'),"
                        + " current_setting('fsync'), current_setting('synchronous_commit')")) {
            rs.next();
            m.put("postgresql", rs.getString(1));
            m.put("shared_buffers", rs.getString(2));
            m.put("work_mem", rs.getString(3));
            m.put("fsync", rs.getString(4));
            m.put("synchronous_commit", rs.getString(5));
        }
        m.put("source_rows", rows);
        return m;
    }

    private static void write(Report r, String args) throws IOException {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.createDirectories(Path.of("bench"));
        json.writeValue(Path.of("bench", "results.json").toFile(), r);
        StringBuilder md = new StringBuilder("# Benchmarks\n\n");
        md.append("Measured by `mvn -B -q -DskipTests install && mvn -B -q -pl bench exec:java")
                .append(args.isBlank() ? "" : " -Dexec.args=\"" + args + "\"").append("` (results also in `bench/results.json`).\n\n");
        md.append("Machine: ").append(r.machine()).append(".\n\n");
        md.append("Each row: median of the repetitions (spread = max − min), all three measured in the same run after the same ")
                .append("change batch (half updates, a quarter deletes, a quarter inserts). FULL = ")
                .append("`refresh_stream_table(..., force_full => true)`; matview = `REFRESH MATERIALIZED VIEW` of the same query. ")
                .append("Times include the call round trip. Only the ratios are meaningful on a noisy machine.\n\n");
        md.append("## Refresh: DIFFERENTIAL vs FULL vs REFRESH MATERIALIZED VIEW\n\n");
        md.append("| Scenario | Change | Rows changed | DIFFERENTIAL ms (spread) | FULL ms (spread) | matview ms (spread) | FULL / DIFF | matview / DIFF |\n");
        md.append("|---|---|---|---|---|---|---|---|\n");
        for (Measurement m : r.refresh()) {
            md.append(String.format("| %s | %.1f %% | %d | %.1f (%.1f) | %.1f (%.1f) | %.1f (%.1f) | %.1f× | %.1f× |%n",
                    m.scenario(), m.changeRate() * 100, m.changedRows(), m.differentialMs(), m.differentialSpreadMs(),
                    m.fullMs(), m.fullSpreadMs(), m.matviewMs(), m.matviewSpreadMs(), m.fullOverDifferential(),
                    m.matviewMs() / m.differentialMs()));
        }
        md.append("\n## Capture cost per written row\n\n| Statement | without capture µs/row | with capture µs/row | ratio |\n|---|---|---|---|\n");
        for (Capture c : r.capture()) {
            md.append(String.format("| %s | %.1f | %.1f | %.2f× |%n", c.statement(), c.plainMicrosPerRow(),
                    c.capturedMicrosPerRow(), c.amplification()));
        }
        md.append(String.format("%n## No-op refresh%n%nA refresh that finds no captured change (NO_DATA), median of 30: **%.2f ms**.%n",
                r.noopRefreshMs()));
        md.append("\n## IMMEDIATE: cost per writing statement\n\nSingle-row UPDATEs of random rows of the source, "
                + "without and with one IMMEDIATE stream table over it (docs/IMMEDIATE.md); median of 3 alternating rounds.\n\n"
                + "| Stream table | Lock | without µs/statement | with µs/statement | ratio |\n|---|---|---|---|---|\n");
        for (ImmediateWrite w : r.immediate()) {
            md.append(String.format("| %s | %s | %.1f | %.1f | %.1f× |%n", w.streamTable(), w.lockMode(), w.plainMicros(),
                    w.immediateMicros(), w.overhead()));
        }
        md.append("\n## Not measured yet\n\nCharts, `REFRESH MATERIALIZED VIEW CONCURRENTLY`, COPY, the scheduler tick with "
                + "100/1,000 stream tables, freshness latency and TPC-H (issue 7).\n");
        Files.writeString(Path.of("docs", "BENCHMARK.md"), md.toString());
        OUT.println("wrote bench/results.json and docs/BENCHMARK.md");
    }

    private static double timed(Connection c, String sql) throws SQLException {
        long start = System.nanoTime();
        exec(c, sql);
        return (System.nanoTime() - start) / 1e6;
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static double spread(double[] v) {
        return Arrays.stream(v).max().orElse(0) - Arrays.stream(v).min().orElse(0);
    }

    private static int intArg(String[] args, String name, int dflt) {
        String v = stringArg(args, name, null);
        return v == null ? dflt : Integer.parseInt(v);
    }

    private static String stringArg(String[] args, String name, String dflt) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return dflt;
    }
}
