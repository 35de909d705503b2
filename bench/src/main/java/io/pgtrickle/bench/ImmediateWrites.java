package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The cost IMMEDIATE adds to a writer: single-row UPDATEs of random rows of {@code events}, timed
 * without any stream table and with one IMMEDIATE stream table over it, alternating, median of 3
 * rounds (docs/IMMEDIATE.md).
 */
final class ImmediateWrites {
    record Row(String streamTable, String lockMode, double plainMicros, double immediateMicros) {
        @JsonProperty("overhead")
        double overhead() {
            return immediateMicros / plainMicros;
        }
    }

    static final List<RefreshScenarios.Scenario> SCENARIOS = List.of(
            new RefreshScenarios.Scenario("filter/projection (keyed)", "SELECT id, v, k FROM events WHERE v % 10 = 0", null, null),
            new RefreshScenarios.Scenario("2-way join", "SELECT e.id, d.name, e.v FROM events e JOIN dims d ON d.k = e.k"
                    + " WHERE e.v < 500", null, null),
            new RefreshScenarios.Scenario("GROUP BY, many groups", "SELECT k, count(*) AS n, sum(v) AS total FROM events"
                    + " GROUP BY k", null, null));

    private final BenchContext ctx;

    ImmediateWrites(BenchContext ctx) {
        this.ctx = ctx;
    }

    static int steps() {
        return SCENARIOS.size();
    }

    List<Row> run() throws SQLException {
        Connection c = ctx.conn();
        int rows = ctx.config().firstRows();
        int updates = ctx.config().quick() ? 300 : 1_000;
        ctx.progress().family("immediate", steps(), String.format(Locale.ROOT,
                "%,d single-row UPDATEs of a %,d-row source per round, without and with an IMMEDIATE stream table", updates, rows));
        EventsSchema.load(c, rows);
        List<Row> out = new ArrayList<>();
        for (RefreshScenarios.Scenario s : SCENARIOS) {
            ctx.progress().step(s.name());
            double[] plain = new double[3];
            double[] maintained = new double[3];
            String mode = "";
            for (int round = 0; round < 3; round++) {
                plain[round] = randomUpdates(c, rows, updates, round);
                ctx.api().create(CreateOptions.of("imm_st", s.query()).withRefreshMode(RefreshMode.IMMEDIATE));
                mode = Sql.string(c, "SELECT ivm_lock_mode FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'imm_st'");
                maintained[round] = randomUpdates(c, rows, updates, round + 10);
                ctx.api().drop("imm_st", false);
            }
            Row w = new Row(s.name(), mode, Stats.median(plain) * 1000 / updates, Stats.median(maintained) * 1000 / updates);
            out.add(w);
            ctx.progress().result(String.format(Locale.ROOT, "lock %s: plain %.1f us, with stream table %.1f us (%.1fx)",
                    w.lockMode(), w.plainMicros(), w.immediateMicros(), w.overhead()));
        }
        return out;
    }

    private static double randomUpdates(Connection c, int rows, int count, int seed) throws SQLException {
        Random random = new Random(seed);
        long start = System.nanoTime();
        try (PreparedStatement ps = c.prepareStatement("UPDATE events SET v = (v + 1) % 1000 WHERE id = ?")) {
            for (int i = 0; i < count; i++) {
                ps.setLong(1, 1 + random.nextInt(rows));
                ps.executeUpdate();
            }
        }
        return Sql.millisSince(start);
    }
}
