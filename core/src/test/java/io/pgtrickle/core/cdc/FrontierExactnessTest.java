package io.pgtrickle.core.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Proves that a refresh consumes exactly the changes of the transactions its snapshot sees and
 * its previous frontier did not: previous contents + consumed changes == new contents == query.
 * This is the property the differential engine builds on; FULL refresh makes it observable.
 */
class FrontierExactnessTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(FrontierExactnessTest.class);
        db.exec("CREATE TABLE src (k int, v int)", "INSERT INTO src SELECT g % 7, g FROM generate_series(1, 20) g");
        db.api.create(CreateOptions.of("mirror", "SELECT k, v FROM src"));
        // A second reader that is never refreshed keeps consumed change rows from being pruned,
        // so the test can read what each refresh of "mirror" consumed.
        db.api.create(CreateOptions.of("keeper", "SELECT k, v FROM src"));
    }

    @Test
    void aLongTransactionStraddlingTwoRefreshesIsConsumedOnceByTheSecond() throws Exception {
        try (Connection t1 = db.connect()) {
            t1.setAutoCommit(false);
            exec(t1, "INSERT INTO src VALUES (100, 1)");
            db.exec("INSERT INTO src VALUES (101, 1)");
            refreshAndCheck();
            assertThat(db.queryLong("SELECT count(*) FROM mirror WHERE k = 100")).isZero();
            exec(t1, "INSERT INTO src VALUES (100, 2)");
            exec(t1, "UPDATE src SET v = v + 1 WHERE k = 3");
            t1.commit();
        }
        refreshAndCheck();
        assertThat(db.queryLong("SELECT count(*) FROM mirror WHERE k = 100")).isEqualTo(2);
    }

    @Test
    void transactionsCommittingInAnotherOrderThanTheyStartedAreExact() throws Exception {
        try (Connection t1 = db.connect(); Connection t2 = db.connect(); Connection t3 = db.connect()) {
            for (Connection c : List.of(t1, t2, t3)) {
                c.setAutoCommit(false);
            }
            exec(t1, "INSERT INTO src VALUES (201, 1)");
            exec(t2, "DELETE FROM src WHERE k = 1");
            exec(t3, "UPDATE src SET k = k + 10 WHERE k = 2");
            t3.commit();
            refreshAndCheck();
            t1.commit();
            refreshAndCheck();
            exec(t2, "INSERT INTO src VALUES (202, 2)");
            refreshAndCheck();
            t2.commit();
            refreshAndCheck();
        }
    }

    @Test
    void rolledBackWorkIsNeverConsumed() throws Exception {
        try (Connection t = db.connect()) {
            t.setAutoCommit(false);
            exec(t, "INSERT INTO src VALUES (300, 1)");
            t.rollback();
            exec(t, "INSERT INTO src VALUES (301, 1)");
            exec(t, "SAVEPOINT s");
            exec(t, "DELETE FROM src");
            exec(t, "ROLLBACK TO SAVEPOINT s");
            exec(t, "INSERT INTO src VALUES (302, 1)");
            t.commit();
        }
        refreshAndCheck();
        assertThat(db.queryLong("SELECT count(*) FROM mirror")).isEqualTo(22);
    }

    @Test
    void concurrentWritersDuringRefreshesAreExactAtEveryStep() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(3);
        List<Future<Integer>> writers = new ArrayList<>();
        for (int w = 0; w < 3; w++) {
            int seed = w;
            writers.add(pool.submit(() -> write(seed, stop)));
        }
        for (int i = 0; i < 25; i++) {
            // The query changes under the writers, so only the consumed-changes identity is checked here;
            // the oracle runs once they have stopped.
            refreshAndCheck(false);
        }
        stop.set(true);
        int statements = 0;
        for (Future<Integer> f : writers) {
            statements += f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        refreshAndCheck();
        assertThat(statements).isPositive();
    }

    private int write(int seed, AtomicBoolean stop) throws SQLException {
        Random random = new Random(seed);
        int n = 0;
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            while (!stop.get()) {
                int k = random.nextInt(7);
                try {
                    switch (random.nextInt(4)) {
                        case 0 -> exec(c, "INSERT INTO src VALUES (" + k + ", " + random.nextInt(100) + ")");
                        case 1 -> exec(c, "DELETE FROM src WHERE ctid IN (SELECT ctid FROM src WHERE k = " + k + " LIMIT 1)");
                        case 2 -> exec(c, "UPDATE src SET v = v + 1 WHERE k = " + k);
                        default -> exec(c, "UPDATE src SET k = " + random.nextInt(7) + " WHERE k = " + k + " AND v % 2 = 0");
                    }
                } catch (SQLException e) {
                    // Two multi-row UPDATEs of the same rows can deadlock in PostgreSQL itself (a row
                    // moved by one is re-found by the other in another order); a real writer retries.
                    if (!"40P01".equals(e.getSQLState())) {
                        throw e;
                    }
                    c.rollback();
                    continue;
                }
                if (random.nextInt(5) == 0) {
                    c.rollback();
                } else {
                    c.commit();
                }
                n++;
            }
        }
        return n;
    }

    /** Refreshes "mirror" and checks contents(before) + consumed changes == contents(after) == query. */
    private void refreshAndCheck() throws SQLException {
        refreshAndCheck(true);
    }

    private void refreshAndCheck(boolean oracle) throws SQLException {
        String f0 = db.queryString("SELECT frontier::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'mirror'");
        Map<String, Long> before = bag("SELECT ROW(k, v)::text FROM mirror");
        StreamTables api = db.api;
        api.refresh("mirror", true);
        String f1 = db.queryString("SELECT frontier::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'mirror'");
        Map<String, Long> after = bag("SELECT ROW(k, v)::text FROM mirror");
        String buffer = db.queryString("SELECT buffer_table FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'src'::regclass");
        Map<String, Long> expected = new HashMap<>(before);
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT __pgt_action, ROW(k, v)::text FROM " + buffer
                     + " WHERE pg_visible_in_snapshot(__pgt_xid, ?::pg_snapshot)"
                     + " AND NOT pg_visible_in_snapshot(__pgt_xid, ?::pg_snapshot) AND __pgt_action IN ('I', 'D')")) {
            ps.setString(1, f1);
            ps.setString(2, f0);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    expected.merge(rs.getString(2), rs.getString(1).equals("I") ? 1L : -1L, Long::sum);
                }
            }
        }
        expected.values().removeIf(v -> v == 0);
        assertThat(after).as("contents after refresh = contents before + consumed changes").isEqualTo(expected);
        if (oracle) {
            db.assertOracle("mirror");
        }
    }

    private Map<String, Long> bag(String sql) throws SQLException {
        Map<String, Long> out = new HashMap<>();
        try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.merge(rs.getString(1), 1L, Long::sum);
            }
        }
        return out;
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
