package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgtrickle.core.api.CreateOptions;
import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * What change capture adds to a writer. Two identical tables, {@code cap_plain} and
 * {@code cap_tracked}; a stream table over {@code cap_tracked} installs its capture triggers.
 * Every statement kind is run on both, alternating which goes first, and compared per written
 * row: time, and bytes of WAL (the write amplification: the change buffer's rows and index
 * entries are written too).
 *
 * <p>Single-row INSERT, UPDATE and DELETE by primary key (prepared, autocommit), and bulk
 * statements of {@value #BULK} rows: INSERT … SELECT, UPDATE of every row, DELETE of every row,
 * and COPY FROM STDIN through pgjdbc's CopyManager.
 */
final class CaptureCost {
    static final int BULK = 10_000;

    /**
     * Per written row, without and with capture; WAL bytes are -1 when the role may not read the WAL position.
     */
    record Row(String statement, int rowsPerRound, int rounds, double plainMicrosPerRow, double capturedMicrosPerRow,
               double plainWalBytesPerRow, double capturedWalBytesPerRow) {
        @JsonProperty("timeRatio")
        double timeRatio() {
            return capturedMicrosPerRow / plainMicrosPerRow;
        }

        @JsonProperty("walRatio")
        double walRatio() {
            return plainWalBytesPerRow > 0 ? capturedWalBytesPerRow / plainWalBytesPerRow : Double.NaN;
        }
    }

    private final BenchContext ctx;

    CaptureCost(BenchContext ctx) {
        this.ctx = ctx;
    }

    static int steps() {
        return 4;
    }

    private int singles() {
        return ctx.config().quick() ? 1_000 : 3_000;
    }

    private int rounds() {
        return ctx.config().quick() ? 3 : 5;
    }

    List<Row> run() throws SQLException, IOException {
        Connection c = ctx.conn();
        ctx.progress().family("capture", steps(), String.format(Locale.ROOT,
                "single-row statements (%,d per round) and %,d-row bulk statements, %d rounds, without vs with capture",
                singles(), BULK, rounds()));
        Sql.exec(c, "DROP TABLE IF EXISTS cap_plain, cap_tracked CASCADE");
        Sql.exec(c, "CREATE TABLE cap_plain (id bigint PRIMARY KEY, v int, s text)");
        Sql.exec(c, "CREATE TABLE cap_tracked (id bigint PRIMARY KEY, v int, s text)");
        ctx.api().create(CreateOptions.of("cap_st", "SELECT v, count(*) AS n FROM cap_tracked GROUP BY v"));
        List<Row> out = new ArrayList<>();
        try {
            for (String kind : List.of("INSERT", "UPDATE", "DELETE")) {
                out.add(singleRows(kind));
            }
            out.addAll(bulk());
        } finally {
            ctx.api().drop("cap_st", true);
            Sql.exec(c, "DROP TABLE IF EXISTS cap_plain, cap_tracked CASCADE");
        }
        return out;
    }

    /** {@code singles()} single-row statements of one kind per round; INSERT first fills the rows the others use. */
    private Row singleRows(String kind) throws SQLException {
        Connection c = ctx.conn();
        int n = singles();
        int rounds = 3;
        ctx.progress().step("single-row " + kind + " x " + n + ", " + rounds + " rounds + 1 warm-up");
        double[] plain = new double[rounds + 1];
        double[] tracked = new double[rounds + 1];
        double[] plainWal = new double[rounds + 1];
        double[] trackedWal = new double[rounds + 1];
        for (int round = 0; round <= rounds; round++) { // round 0 warms up
            for (String table : round % 2 == 0 ? List.of("cap_plain", "cap_tracked") : List.of("cap_tracked", "cap_plain")) {
                long wal = Sql.walPosition(c);
                double ms = singleRowStatements(c, table, kind, n, round);
                long walBytes = wal < 0 ? -1 : Sql.walPosition(c) - wal;
                if (table.equals("cap_plain")) {
                    plain[round] = ms;
                    plainWal[round] = walBytes;
                } else {
                    tracked[round] = ms;
                    trackedWal[round] = walBytes;
                }
            }
        }
        consume();
        return report(new Row("single-row " + kind, n, rounds, Stats.median(measured(plain)) * 1000 / n,
                Stats.median(measured(tracked)) * 1000 / n, Stats.median(measured(plainWal)) / n,
                Stats.median(measured(trackedWal)) / n));
    }

    /** Milliseconds for {@code count} single-row statements of one kind; rows round*count .. round*count+count-1. */
    private static double singleRowStatements(Connection c, String table, String kind, int count, int round) throws SQLException {
        String sql = switch (kind) {
            case "INSERT" -> "INSERT INTO " + table + " VALUES (?, 1, 'x')";
            case "UPDATE" -> "UPDATE " + table + " SET v = v + 1 WHERE id = ?";
            default -> "DELETE FROM " + table + " WHERE id = ?";
        };
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < count; i++) {
                ps.setLong(1, (long) round * count + i);
                ps.executeUpdate();
            }
        }
        return Sql.millisSince(start);
    }

    /**
     * Rounds of INSERT … SELECT, UPDATE of all rows, DELETE of all rows and COPY, each on both
     * tables (in alternating order), from empty tables; the stream table consumes the captured
     * changes between rounds so that the change buffer does not grow.
     */
    private List<Row> bulk() throws SQLException, IOException {
        Connection c = ctx.conn();
        List<String> kinds = List.of("INSERT ... SELECT", "UPDATE", "DELETE", "COPY");
        int rounds = rounds();
        double[][] plain = new double[kinds.size()][rounds + 1];
        double[][] tracked = new double[kinds.size()][rounds + 1];
        double[][] plainWal = new double[kinds.size()][rounds + 1];
        double[][] trackedWal = new double[kinds.size()][rounds + 1];
        CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
        StringBuilder copyText = new StringBuilder();
        for (int i = 1; i <= BULK; i++) {
            copyText.append(1_000_000 + i).append('\t').append(i % 100).append("\trow\n");
        }
        ctx.progress().step(String.format(Locale.ROOT, "bulk statements of %,d rows, %d rounds + 1 warm-up", BULK, rounds));
        for (int round = 0; round <= rounds; round++) {  // round 0 warms up
            Sql.exec(c, "DELETE FROM cap_plain");
            Sql.exec(c, "DELETE FROM cap_tracked");
            consume();
            Sql.exec(c, "VACUUM cap_plain, cap_tracked");
            for (int k = 0; k < kinds.size(); k++) {
                for (String table : (round + k) % 2 == 0 ? List.of("cap_plain", "cap_tracked") : List.of("cap_tracked", "cap_plain")) {
                    long wal = Sql.walPosition(c);
                    long start = System.nanoTime();
                    switch (kinds.get(k)) {
                        case "INSERT ... SELECT" -> Sql.exec(c, "INSERT INTO " + table
                                + " SELECT g, g % 100, 'row' FROM generate_series(1, " + BULK + ") g");
                        case "UPDATE" -> Sql.exec(c, "UPDATE " + table + " SET v = v + 1");
                        case "DELETE" -> Sql.exec(c, "DELETE FROM " + table);
                        default -> copy.copyIn("COPY " + table + " (id, v, s) FROM STDIN", new StringReader(copyText.toString()));
                    }
                    double ms = Sql.millisSince(start);
                    long walBytes = wal < 0 ? -1 : Sql.walPosition(c) - wal;
                    (table.equals("cap_plain") ? plain : tracked)[k][round] = ms;
                    (table.equals("cap_plain") ? plainWal : trackedWal)[k][round] = walBytes;
                }
            }
        }
        List<Row> out = new ArrayList<>();
        for (int k = 0; k < kinds.size(); k++) {
            double[] p = measured(plain[k]);
            double[] t = measured(tracked[k]);
            double[] pw = measured(plainWal[k]);
            double[] tw = measured(trackedWal[k]);
            out.add(new Row("bulk " + kinds.get(k) + " of " + String.format(Locale.ROOT, "%,d", BULK) + " rows", BULK, rounds,
                    Stats.median(p) * 1000 / BULK, Stats.median(t) * 1000 / BULK, Stats.median(pw) / BULK,
                    Stats.median(tw) / BULK));
        }
        ctx.progress().result(String.join(", ", out.stream().map(r -> String.format(Locale.ROOT, "%s %.2fx time %.2fx WAL",
                r.statement().replace("bulk ", "").replaceAll(" of .*", ""), r.timeRatio(), r.walRatio())).toList()));
        out.forEach(r -> ctx.progress().note("  %s", describe(r)));
        return out;
    }

    /** The rounds after the warm-up (index 0). */
    private static double[] measured(double[] rounds) {
        return java.util.Arrays.copyOfRange(rounds, 1, rounds.length);
    }

    private Row report(Row r) {
        ctx.progress().result(describe(r));
        return r;
    }

    private static String describe(Row r) {
        return String.format(Locale.ROOT, "%s: plain %.2f us/row, captured %.2f us/row (%.2fx); WAL %.0f -> %.0f B/row (%.2fx)",
                r.statement(), r.plainMicrosPerRow(), r.capturedMicrosPerRow(), r.timeRatio(), r.plainWalBytesPerRow(),
                r.capturedWalBytesPerRow(), r.walRatio());
    }

    /** Lets the stream table consume (and prune) what was captured, outside the timed statements. */
    private void consume() throws SQLException {
        Sql.exec(ctx.conn(), "CALL pgtrickle.refresh_stream_table('cap_st')");
    }
}
