package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.HistoryEntry;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.api.Verification;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FullRefreshTest {
    static Db db;

    @BeforeAll
    static void setUp() {
        db = Db.create(FullRefreshTest.class);
    }

    @Test
    void unchangedRowsKeepTheirIdentityAndCountsAreExact() {
        db.exec("CREATE TABLE items (id int PRIMARY KEY, v text)",
                "INSERT INTO items SELECT g, 'v' || g FROM generate_series(1, 100) g");
        db.api.create(CreateOptions.of("items_st", "SELECT id, v FROM items").withRefreshMode(RefreshMode.FULL));
        List<String> before = db.queryStrings("SELECT id || ':' || __pgt_row_id FROM items_st WHERE id > 10 ORDER BY id");

        db.exec("UPDATE items SET v = 'changed' WHERE id <= 5", "DELETE FROM items WHERE id BETWEEN 6 AND 10",
                "INSERT INTO items VALUES (101, 'new'), (102, 'new')");
        RefreshResult r = db.api.refresh("items_st");

        assertThat(r.action()).isEqualTo("FULL");
        assertThat(r.rowsInserted()).isEqualTo(7);   // 5 updated rows + 2 new
        assertThat(r.rowsDeleted()).isEqualTo(10);   // 5 old images + 5 deleted
        assertThat(r.changeRows()).isEqualTo(5 * 2 + 5 + 2);
        assertThat(db.queryStrings("SELECT id || ':' || __pgt_row_id FROM items_st WHERE id > 10 AND id <= 100 ORDER BY id"))
                .isEqualTo(before.subList(0, 90));
        db.assertOracle("items_st");
    }

    /**
     * From PostgreSQL 18 a FULL refresh is one MERGE that deletes the stored rows the query no
     * longer has (WHEN NOT MATCHED BY SOURCE); before, the deletions come from an anti-join.
     */
    @Test
    void theFullStatementDeletesWhatTheQueryNoLongerHas() {
        db.exec("CREATE TABLE shrinking (id int PRIMARY KEY, g int)",
                "INSERT INTO shrinking SELECT x, x % 3 FROM generate_series(1, 30) x");
        db.api.create(CreateOptions.of("shrinking_st", "SELECT g, count(*) AS n FROM shrinking GROUP BY g").withRefreshMode(RefreshMode.FULL));
        String full = db.fullApplySql("shrinking_st");
        if (db.queryLong("SELECT current_setting('server_version_num')::int") >= 180000) {
            assertThat(full).contains("WHEN NOT MATCHED BY SOURCE THEN DELETE").doesNotContain("UNION ALL");
        } else {
            assertThat(full).doesNotContain("BY SOURCE").contains("NOT EXISTS");
        }
        db.exec("DELETE FROM shrinking WHERE g = 2", "UPDATE shrinking SET g = 5 WHERE id = 3");
        RefreshResult r = db.api.refresh("shrinking_st");
        assertThat(r.rowsDeleted()).isEqualTo(2);   // group 2 gone, group 0's old count
        assertThat(r.rowsInserted()).isEqualTo(2);  // group 0's new count, group 5
        db.assertOracle("shrinking_st");
        db.exec("DELETE FROM shrinking");
        r = db.api.refresh("shrinking_st");
        assertThat(r.rowsDeleted()).isEqualTo(3);
        assertThat(db.queryLong("SELECT count(*) FROM shrinking_st")).isZero();
    }

    @Test
    void duplicateRowsOfAKeylessSourceAreKeptExactly() {
        db.exec("CREATE TABLE bag (x int, y text)",
                "INSERT INTO bag VALUES (1, 'a'), (1, 'a'), (1, 'a'), (2, NULL), (2, NULL)");
        db.api.create(CreateOptions.of("bag_st", "SELECT x, y FROM bag").withRefreshMode(RefreshMode.FULL));
        assertThat(db.queryLong("SELECT count(*) FROM bag_st")).isEqualTo(5);
        db.exec("DELETE FROM bag WHERE ctid = (SELECT min(ctid) FROM bag WHERE x = 1)");
        RefreshResult r = db.api.refresh("bag_st");
        assertThat(r.rowsDeleted()).isEqualTo(1);
        assertThat(r.rowsInserted()).isZero();
        db.assertOracle("bag_st");
    }

    @Test
    void aRefreshWithoutChangesRecordsNoData() {
        db.exec("CREATE TABLE quiet (id int PRIMARY KEY)", "INSERT INTO quiet VALUES (1)");
        db.api.create(CreateOptions.of("quiet_st", "SELECT id FROM quiet"));
        RefreshResult r = db.api.refresh("quiet_st");
        assertThat(r.action()).isEqualTo("NO_DATA");
        assertThat(r.rowsInserted() + r.rowsDeleted()).isZero();
        RefreshResult forced = db.api.refresh("quiet_st", true);
        assertThat(forced.action()).isEqualTo("FULL");
        assertThat(forced.reason()).isEqualTo("full refresh requested");
        List<HistoryEntry> h = db.api.history("quiet_st", 10);
        assertThat(h).extracting(HistoryEntry::action).containsExactly("FULL", "NO_DATA", "FULL");
        assertThat(h).extracting(HistoryEntry::initiatedBy).containsExactly("MANUAL", "MANUAL", "INITIAL");
        assertThat(h).allMatch(e -> e.status().equals("COMPLETED"));
    }

    @Test
    void verifyComparesTheStoredRowsWithTheQueryInOneSnapshot() {
        db.exec("CREATE TABLE checked (id int PRIMARY KEY, v int)", "INSERT INTO checked VALUES (1, 1), (2, 2)");
        db.api.create(CreateOptions.of("checked_st", "SELECT v FROM checked"));
        assertThat(db.api.verify("checked_st").consistent()).isTrue();
        db.exec("UPDATE checked SET v = 5 WHERE id = 1", "INSERT INTO checked VALUES (3, 3)");
        Verification stale = db.api.verify("checked_st");
        assertThat(stale.consistent()).isFalse();
        assertThat(stale.storedOnly()).isEqualTo(1);
        assertThat(stale.queryOnly()).isEqualTo(2);
        db.api.refresh("checked_st");
        assertThat(db.api.verify("checked_st")).isEqualTo(new Verification("public.checked_st", 3, 0, 0));
    }

    @Test
    void psqlCanRefreshWithCall() {
        db.exec("CREATE TABLE via_call (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("via_call_st", "SELECT id FROM via_call"));
        db.exec("INSERT INTO via_call VALUES (1), (2)", "CALL pgtrickle.refresh_stream_table('via_call_st')");
        assertThat(db.queryLong("SELECT count(*) FROM via_call_st")).isEqualTo(2);
        db.exec("INSERT INTO via_call VALUES (3)", "CALL pgtrickle.refresh_stream_table('public.via_call_st')");
        db.assertOracle("via_call_st");
    }

    @Test
    void insideARepeatableReadTransactionTheRefreshJoinsIt() throws Exception {
        db.exec("CREATE TABLE in_tx (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("in_tx_st", "SELECT id FROM in_tx"));
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            st.execute("INSERT INTO in_tx VALUES (1)");
            st.execute("CALL pgtrickle.refresh_stream_table('in_tx_st')");
            st.execute("ROLLBACK");
        }
        assertThat(db.queryLong("SELECT count(*) FROM in_tx_st")).isZero();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            st.execute("INSERT INTO in_tx VALUES (2)");
            st.execute("CALL pgtrickle.refresh_stream_table('in_tx_st')");
            st.execute("COMMIT");
        }
        db.assertOracle("in_tx_st");
        // The refresh consumed its own transaction's change: nothing is pending afterwards.
        assertThat(db.api.refresh("in_tx_st").action()).isEqualTo("NO_DATA");
    }

    @Test
    void insideAReadCommittedTransactionBlockTheRefreshExplainsWhatToDoAndHoldsNoLock() throws Exception {
        db.exec("CREATE TABLE rc_tx (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("rc_tx_st", "SELECT id FROM rc_tx"));
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("SELECT 1");
            assertThatThrownBy(() -> StreamTables.onConnection(c).refresh("rc_tx_st"))
                    .isInstanceOfSatisfying(PgtException.class, e -> {
                        assertThat(e.getMessage()).contains("READ COMMITTED transaction block");
                        assertThat(e.hint()).contains("REPEATABLE READ");
                    });
            c.rollback();
            // The failed attempt must not keep the refresh lock of this session.
            db.exec("INSERT INTO rc_tx VALUES (1)");
            try (Connection other = db.connect()) {
                other.createStatement().execute("SET lock_timeout = '2s'");
                StreamTables.onConnection(other).refresh("rc_tx_st");
            }
        }
        db.assertOracle("rc_tx_st");
    }

    @Test
    void aFailingRefreshIsRecordedAndPutsTheStreamTableIntoError() {
        db.exec("CREATE TABLE fragile (x int)", "INSERT INTO fragile VALUES (1)");
        db.api.create(CreateOptions.of("fragile_st", "SELECT 10 / x AS y FROM fragile").withRefreshMode(RefreshMode.FULL));
        db.exec("INSERT INTO fragile VALUES (0)");
        assertThatThrownBy(() -> db.api.refresh("fragile_st"))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("22012");
                    assertThat(e.retryable()).isFalse();
                });
        assertThat(db.api.get("fragile_st").status()).isEqualTo(Status.ERROR);
        assertThat(db.api.get("fragile_st").lastError()).contains("division by zero");
        HistoryEntry failed = db.api.history("fragile_st", 1).get(0);
        assertThat(failed.status()).isEqualTo("FAILED");
        assertThat(failed.errorMessage()).contains("division by zero");
        assertThatThrownBy(() -> db.api.refresh("fragile_st")).hasMessageContaining("is ERROR")
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.hint()).contains("resume"));
        db.exec("DELETE FROM fragile WHERE x = 0");
        db.api.resume("fragile_st");
        assertThat(db.api.refresh("fragile_st").action()).isEqualTo("FULL");
        assertThat(db.api.get("fragile_st").status()).isEqualTo(Status.ACTIVE);
        db.assertOracle("fragile_st");
    }
    /**
     * Two sessions refreshing one stream table take turns on its lock. Found with pgbench: the key
     * was released before the refresh committed, so the next refresh could take its snapshot
     * without the previous one's catalog update and fail with SQLSTATE 40001 (1 to 4 % of the
     * refreshes of two sessions, without any change to refresh).
     */
    @Test
    void twoSessionsRefreshingOneStreamTableTakeTurnsWithoutFailing() throws Exception {
        db.exec("CREATE TABLE contended (id int PRIMARY KEY, v int)");
        db.api.create(CreateOptions.of("contended_st", "SELECT v % 10 AS k, count(*) AS n FROM contended GROUP BY v % 10")
                .withRefreshMode(RefreshMode.DIFFERENTIAL));
        int perSession = 400;
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            List<Future<Integer>> sessions = new ArrayList<>();
            for (int s = 0; s < 2; s++) {
                sessions.add(pool.submit(() -> {
                    try (Connection c = db.connect(); Statement st = c.createStatement()) {
                        for (int i = 0; i < perSession; i++) {
                            st.execute("CALL pgtrickle.refresh_stream_table('contended_st')");
                        }
                    }
                    return perSession;
                }));
            }
            try (Connection c = db.connect(); Statement st = c.createStatement()) {
                for (int i = 0; i < 100; i++) {  // some refreshes have changes to apply
                    st.execute("INSERT INTO contended VALUES (" + i + ", " + i * 7 + ")");
                }
            }
            for (Future<Integer> f : sessions) {
                assertThat(f.get(2, TimeUnit.MINUTES)).isEqualTo(perSession);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables t"
                + " USING (pgt_id) WHERE t.pgt_name = 'contended_st' AND h.status <> 'COMPLETED'")).isZero();
        db.api.refresh("contended_st");
        db.assertOracle("contended_st");
    }
}
