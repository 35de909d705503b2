package io.pgtrickle.core.tpch;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import io.pgtrickle.core.tpch.TpchChanges.Change;
import io.pgtrickle.core.tpch.TpchQueries.Query;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TPC-H in every refresh mode: the 22 queries ({@code tpch/qNN.sql}) each as a FULL, a DIFFERENTIAL
 * and an IMMEDIATE stream table over TPC-H data, then cycles of the refresh functions RF1/RF2 and
 * of random updates ({@link TpchChanges}). After every statement, inside the writing transaction,
 * each IMMEDIATE stream table must equal its query; after every cycle the DIFFERENTIAL and FULL
 * ones are refreshed and all three must equal it. A mode that refuses a query is recorded with its
 * reason and fails the test once the cycles have checked the others (every mode maintains all 22);
 * the report (logged at the end) is the query × mode table of docs/TPCH.md.
 *
 * <p>System properties (Maven passes them through): {@code pgtrickle.tpch.scale} (0.01),
 * {@code pgtrickle.tpch.cycles} (3), {@code pgtrickle.tpch.seed} (5).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TpchTest {
    private static final Logger log = LoggerFactory.getLogger(TpchTest.class);

    static final double SCALE = Double.parseDouble(System.getProperty("pgtrickle.tpch.scale", "0.01"));
    static final int CYCLES = Integer.parseInt(System.getProperty("pgtrickle.tpch.cycles", "3"));
    static final long SEED = Long.parseLong(System.getProperty("pgtrickle.tpch.seed", "5"));

    private static final List<RefreshMode> MODES = List.of(RefreshMode.FULL, RefreshMode.DIFFERENTIAL, RefreshMode.IMMEDIATE);

    /**
     * Engine bugs, by stream table (q13_differential → what is wrong): their differences are logged
     * as KNOWN BUG and left out of the assertion, so that the other stream tables stay checked. Each
     * entry needs its shrunk reproduction in a TpchRegressionTest. Empty: no query has given a wrong
     * result so far.
     */
    private static final Map<String, String> KNOWN_BUGS = Map.of();

    private Db db;
    private final List<Query> queries = TpchQueries.all();
    /** The stream tables created (q01_full …); the refused ones are in {@link #refused}, with the reason. */
    private final List<String> streamTables = new ArrayList<>();
    private final Map<String, String> refused = new LinkedHashMap<>();
    /** Per IMMEDIATE stream table: the tables it reads. */
    private final Map<String, Set<String>> sources = new LinkedHashMap<>();
    /** First difference seen per stream table, and how many checks found one. */
    private final Map<String, String> wrong = new LinkedHashMap<>();
    private final Map<String, Integer> wrongCount = new LinkedHashMap<>();
    private final Map<String, Long> changedRows = new LinkedHashMap<>();
    private final Map<String, Long> refreshMillis = new LinkedHashMap<>();
    private final List<String> failures = new ArrayList<>();
    /** Milliseconds spent in writing statements (with their IMMEDIATE maintenance) and in the oracle. */
    private long statementMillis;
    private long oracleMillis;

    static String name(Query q, RefreshMode mode) {
        return q.name() + "_" + mode.name().toLowerCase(Locale.ROOT);
    }

    @BeforeAll
    void loadAndCreate() throws SQLException {
        log.info("TPC-H: scale {}, {} cycles, seed {} (-Dpgtrickle.tpch.scale=… -Dpgtrickle.tpch.cycles=… "
                + "-Dpgtrickle.tpch.seed=…)", SCALE, CYCLES, SEED);
        db = Db.create(TpchTest.class);
        long t0 = System.nanoTime();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute(TpchChanges.FUNCTION);
            Map<String, Long> rows = TpchLoader.load(c, SCALE);
            log.info("loaded in {} ms: {}", ms(t0), rows);
            if (SCALE == 0.01) {
                for (Query q : queries) {
                    assertThat(TpchQueries.againstReference(c, q))
                            .as("%s against the generator's reference answer at scale 0.01", q.name()).isEmpty();
                }
                log.info("the 22 answers agree with the generator's reference answers at scale 0.01");
            }
        }
        for (Query q : queries) {
            for (RefreshMode mode : MODES) {
                String st = name(q, mode);
                long t = System.nanoTime();
                try {
                    RefreshMode got = db.api.create(CreateOptions.of(st, q.sql()).withRefreshMode(mode))
                            .streamTable().refreshMode();
                    assertThat(got).as("%s created in the mode asked for", st).isEqualTo(mode);
                    streamTables.add(st);
                    if (mode == RefreshMode.IMMEDIATE) {
                        sources.put(st, Set.copyOf(db.queryStrings("SELECT d.source_name FROM pgtrickle.pgt_dependencies d "
                                + "JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = '" + st + "'")));
                    }
                    log.info("created {} in {} ms", st, ms(t));
                } catch (PgtException e) {
                    if (e.code() != ErrorCode.UNSUPPORTED_QUERY) {
                        throw e;
                    }
                    refused.put(st, e.getMessage());
                    log.info("REFUSED {}: {}", st, e.getMessage());
                }
            }
        }
        checkAll(null, "after create");
    }

    @Test
    @Order(1)
    void cyclesOfRefreshFunctionsAndUpdates() throws SQLException {
        Random random = new Random(SEED);
        for (int cycle = 1; cycle <= CYCLES; cycle++) {
            List<Change> changes = TpchChanges.cycle(cycle, db.queryLong("SELECT max(o_orderkey) FROM orders"), random);
            try (Connection c = db.connect()) {
                c.setAutoCommit(false);
                for (Change change : changes) {
                    execute(c, change, "cycle " + cycle);
                }
                checkImmediate(c, "cycle " + cycle + ", before COMMIT");
                c.commit();
            }
            refreshAndCheck("after cycle " + cycle);
        }
        assertNoWrongResults();
        assertThat(refused).as("stream tables a mode refused to create (every mode maintains all 22 queries)").isEmpty();
    }

    @Test
    @Order(2)
    void rolledBackCycleAndRolledBackSavepoint() throws SQLException {
        Random random = new Random(SEED + 1);
        List<Change> changes = TpchChanges.cycle(1, db.queryLong("SELECT max(o_orderkey) FROM orders"), random);
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            for (Change change : changes) {
                execute(c, change, "cycle rolled back");
            }
            c.rollback();
            checkImmediate(c, "after ROLLBACK of a whole cycle");
        }
        refreshAndCheck("after a cycle rolled back");

        changes = TpchChanges.cycle(2, db.queryLong("SELECT max(o_orderkey) FROM orders"), random);
        int half = changes.size() / 2;
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (Change change : changes.subList(0, half)) {
                execute(c, change, "before SAVEPOINT");
            }
            st.execute("SAVEPOINT tpch");
            for (Change change : changes.subList(half, changes.size())) {
                execute(c, change, "after SAVEPOINT");
            }
            st.execute("ROLLBACK TO SAVEPOINT tpch");
            checkImmediate(c, "after ROLLBACK TO SAVEPOINT");
            // Statements after the rolled-back savepoint: the first three of the rolled-back ones, again.
            for (Change change : changes.subList(half, half + 3)) {
                execute(c, change, "after ROLLBACK TO SAVEPOINT, again");
            }
            checkImmediate(c, "before COMMIT");
            c.commit();
        }
        refreshAndCheck("after the transaction with a rolled-back savepoint");
        assertNoWrongResults();
    }

    /**
     * Runs one statement, then checks inside the transaction every IMMEDIATE stream table that reads
     * a table the statement wrote (all of them are checked again before the transaction ends, and
     * after it).
     */
    private void execute(Connection c, Change change, String when) throws SQLException {
        long t = System.nanoTime();
        int rows;
        try (Statement st = c.createStatement()) {
            st.execute(change.sql());
            rows = st.getUpdateCount();
        }
        long took = ms(t);
        statementMillis += took;
        t = System.nanoTime();
        Set<String> written = change.writes();
        List<String> affected = sources.entrySet().stream()
                .filter(e -> e.getValue().stream().anyMatch(written::contains)).map(Map.Entry::getKey).toList();
        affected.forEach(st -> check(c, st, when + ", after '" + change.name() + "'"));
        log.info("{}: {} ({} rows) in {} ms, {} IMMEDIATE stream tables checked in {} ms", when, change.name(), rows,
                took, affected.size(), ms(t));
    }

    private void checkImmediate(Connection c, String when) {
        sources.keySet().forEach(st -> check(c, st, when));
    }

    private void refreshAndCheck(String when) {
        for (String st : streamTables) {
            if (st.endsWith("_immediate")) {
                continue;
            }
            RefreshResult r = db.api.refresh(st);
            refreshMillis.merge(st, r.durationMillis(), Long::sum);
            changedRows.merge(st, r.rowsInserted() + r.rowsDeleted(), Long::sum);
            if (st.endsWith("_differential") && !List.of("DIFFERENTIAL", "NO_DATA").contains(r.action())) {
                failures.add(String.format("%s %s: refresh was %s, not DIFFERENTIAL (%s)", st, when, r.action(), r.reason()));
            }
        }
        checkAll(null, when);
    }

    private void checkAll(Connection c, String when) {
        streamTables.forEach(st -> check(c, st, when));
    }

    /** The oracle on {@code c} (inside its transaction), or on a new connection when null. */
    private void check(Connection c, String st, String when) {
        long t = System.nanoTime();
        List<String> diffs = c == null ? Oracle.differences(db, st) : Oracle.differences(c, st);
        oracleMillis += ms(t);
        if (diffs.isEmpty()) {
            return;
        }
        wrongCount.merge(st, 1, Integer::sum);
        if (!wrong.containsKey(st)) {
            String first = String.format("%s differs from its query %s: %s", st, when, diffs);
            wrong.put(st, first);
            log.warn("{}{}", KNOWN_BUGS.containsKey(st) ? "KNOWN BUG (" + KNOWN_BUGS.get(st) + "): " : "WRONG: ", first);
        }
    }

    private void assertNoWrongResults() {
        List<String> unexpected = new ArrayList<>(failures);
        wrong.forEach((st, first) -> {
            if (!KNOWN_BUGS.containsKey(st)) {
                unexpected.add(first + " (" + wrongCount.get(st) + " checks differed)");
            }
        });
        assertThat(unexpected).as("stream tables that differ from their query (seed %d)", SEED).isEmpty();
    }

    @AfterAll
    void report() {
        StringBuilder table = new StringBuilder("TPC-H query × mode (scale " + SCALE + ", " + CYCLES + " cycles, seed "
                + SEED + "):\n");
        for (Query q : queries) {
            table.append(q.name());
            for (RefreshMode mode : MODES) {
                String st = name(q, mode);
                String cell;
                if (refused.containsKey(st)) {
                    cell = "REFUSED";
                } else if (wrong.containsKey(st)) {
                    cell = KNOWN_BUGS.containsKey(st) ? "KNOWN BUG" : "WRONG";
                } else {
                    cell = "maintained";
                }
                String extra = mode == RefreshMode.IMMEDIATE || !streamTables.contains(st) ? ""
                        : String.format(" (%d rows changed, %d ms refreshing)", changedRows.getOrDefault(st, 0L),
                                refreshMillis.getOrDefault(st, 0L));
                table.append(String.format(" | %s %s%s", mode, cell, extra));
            }
            table.append('\n');
        }
        table.append(String.format("writing statements (with IMMEDIATE maintenance): %d ms; refreshes: FULL %d ms, "
                + "DIFFERENTIAL %d ms; oracle checks: %d ms%n", statementMillis, refreshTotal("_full"),
                refreshTotal("_differential"), oracleMillis));
        refused.forEach((st, why) -> table.append("REFUSED ").append(st).append(": ").append(why).append('\n'));
        wrong.forEach((st, first) -> table.append(KNOWN_BUGS.containsKey(st) ? "KNOWN BUG " : "WRONG ")
                .append(first).append('\n'));
        KNOWN_BUGS.keySet().stream().filter(st -> !wrong.containsKey(st))
                .forEach(st -> table.append("KNOWN BUG not seen in this run: ").append(st).append('\n'));
        log.info("{}", table);
    }

    private long refreshTotal(String suffix) {
        return refreshMillis.entrySet().stream().filter(e -> e.getKey().endsWith(suffix)).mapToLong(Map.Entry::getValue).sum();
    }

    private static long ms(long startNanos) {
        return (System.nanoTime() - startNanos) / 1_000_000;
    }
}
