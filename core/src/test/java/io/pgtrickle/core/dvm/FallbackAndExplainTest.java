package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.HistoryEntry;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class FallbackAndExplainTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(FallbackAndExplainTest.class);
        db.exec("CREATE TABLE o (id int PRIMARY KEY, region text, amount int)",
                "INSERT INTO o SELECT g, 'r' || (g % 4), g FROM generate_series(1, 100) g",
                // the cost guard scales FULL times by pg_class.reltuples: known now, autovacuum changes nothing
                "ANALYZE o");
    }

    @Test
    void autoPicksDifferentialWhenEveryOperatorIsSupportedElseFullWithTheReason() {
        CreateResult diff = db.api.create(CreateOptions.of("a1", "SELECT region, sum(amount) AS total FROM o GROUP BY region"));
        assertThat(diff.streamTable().refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        assertThat(diff.notices()).isEmpty();
        CreateResult full = db.api.create(CreateOptions.of("a2",
                "SELECT region, amount, rank() OVER (ORDER BY amount) AS r FROM o"));
        assertThat(full.streamTable().refreshMode()).isEqualTo(RefreshMode.FULL);
        assertThat(full.notices()).containsExactly("stream table \"public.a2\" using FULL refresh: a window function without PARTITION BY: every change recomputes every row, which FULL does at lower cost");
        CreateResult stable = db.api.create(CreateOptions.of("a3", "SELECT id, now() - interval '1 day' AS since FROM o"));
        assertThat(stable.streamTable().refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        assertThat(stable.notices()).anyMatch(n -> n.contains("stable functions") && n.contains("now"));
    }

    /**
     * Found by review: PostgreSQL records no column dependency for a whole-row reference, so only the
     * key was captured and `src::text` was maintained from the change row (holding the engine's
     * weight column) instead of the table's row. Such a query is maintained by FULL, with the reason.
     */
    @Test
    void aWholeRowReferenceIsMaintainedByFullWithTheReason() {
        db.exec("CREATE TABLE wr (id int PRIMARY KEY, a int, s text)", "INSERT INTO wr VALUES (1, 1, 'x'), (2, 2, NULL)",
                "CREATE VIEW wr_json AS SELECT w.id, row_to_json(w) AS j FROM wr w");
        for (String[] q : List.of(new String[] {"wr_text", "SELECT id, wr::text AS t FROM wr", "wr.*"},
                new String[] {"wr_view", "SELECT id, j::text AS j FROM wr_json", "w.*"},
                new String[] {"wr_count", "SELECT d.k, count(w.*) AS n FROM (VALUES (1), (3)) d(k) LEFT JOIN wr w ON w.a = d.k GROUP BY d.k", "w.*"})) {
            CreateResult r = db.api.create(CreateOptions.of(q[0], q[1]));
            assertThat(r.streamTable().refreshMode()).as(q[0]).isEqualTo(RefreshMode.FULL);
            assertThat(r.notices()).as(q[0]).anyMatch(n -> n.contains("a whole-row reference (" + q[2] + ")"));
        }
        assertThatThrownBy(() -> db.api.create(CreateOptions.of("wr_diff", "SELECT id, wr::text AS t FROM wr")
                .withRefreshMode(RefreshMode.DIFFERENTIAL))).hasMessageContaining("whole-row reference");
        db.exec("INSERT INTO wr VALUES (3, 3, 'new')", "UPDATE wr SET s = 'y' WHERE id = 1", "DELETE FROM wr WHERE id = 2");
        for (String st : List.of("wr_text", "wr_view", "wr_count")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("FULL");
            db.assertOracle(st);
        }
        // a literal that looks like one is not one
        assertThat(db.api.create(CreateOptions.of("wr_regex", "SELECT id FROM wr WHERE s ~ 'x.*'")).streamTable().refreshMode())
                .isEqualTo(RefreshMode.DIFFERENTIAL);
    }

    /**
     * Found by review: reading an inheritance parent reads its children, whose changes the parent's
     * capture never saw; DIFFERENTIAL kept a child's update and insert out of the stream table.
     */
    @Test
    void aTableWithInheritanceChildrenIsMaintainedByFullWithTheReason() {
        db.exec("CREATE TABLE par (id int PRIMARY KEY, v int)", "CREATE TABLE chi () INHERITS (par)",
                "INSERT INTO par VALUES (1, 1)", "INSERT INTO chi VALUES (2, 2)");
        CreateResult r = db.api.create(CreateOptions.of("inh", "SELECT id, v FROM par"));
        assertThat(r.streamTable().refreshMode()).isEqualTo(RefreshMode.FULL);
        assertThat(r.notices()).anyMatch(n -> n.contains("table public.par has inheritance children"));
        db.exec("INSERT INTO chi VALUES (3, 3)", "UPDATE chi SET v = 20 WHERE id = 2");  // no change captured
        assertThat(db.api.refresh("inh").action()).isEqualTo("FULL");
        assertThat(db.api.history("inh", 1).get(0).reason()).isEqualTo("sources whose changes are not captured: public.par");
        db.assertOracle("inh");

        // children attached after creation: a DIFFERENTIAL stream table is refreshed FULL from then on
        db.exec("CREATE TABLE solo (id int PRIMARY KEY, v int)", "INSERT INTO solo VALUES (1, 1)");
        assertThat(db.api.create(CreateOptions.of("solo_st", "SELECT id, v FROM solo").withRefreshMode(RefreshMode.DIFFERENTIAL))
                .streamTable().refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        db.exec("CREATE TABLE solo_child () INHERITS (solo)", "INSERT INTO solo_child VALUES (2, 2)");
        assertThat(db.api.refresh("solo_st").action()).isEqualTo("FULL");
        db.assertOracle("solo_st");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle._stream_tables_with_work() w"
                + " JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = w WHERE s.pgt_name IN ('inh', 'solo_st')")).isEqualTo(2);
    }

    /**
     * Found by review: a stream table over a materialized view was refreshed NO_DATA, since nothing
     * was captured, and never saw the matview's new rows.
     */
    @Test
    void aStreamTableOverAMaterializedViewIsRefreshedInFullEveryTime() {
        db.exec("CREATE MATERIALIZED VIEW big_orders AS SELECT id, amount FROM o WHERE amount > 90");
        db.api.create(CreateOptions.of("over_mv", "SELECT id, amount FROM big_orders").withRefreshMode(RefreshMode.FULL));
        db.exec("INSERT INTO o VALUES (500, 'r1', 500)", "REFRESH MATERIALIZED VIEW big_orders");
        assertThat(db.api.refresh("over_mv").action()).isEqualTo("FULL");
        assertThat(db.api.history("over_mv", 1).get(0).reason()).isEqualTo("sources whose changes are not captured: public.big_orders");
        db.assertOracle("over_mv");
        assertThat(db.queryLong("SELECT count(*) FROM over_mv WHERE id = 500")).isEqualTo(1);
    }

    @Test
    void everyRefreshOfAnAutoStreamTableThatResolvedToFullSaysWhy() throws Exception {
        db.api.create(CreateOptions.of("ranked", "SELECT id, rank() OVER (ORDER BY amount) AS r FROM o"));
        db.exec("INSERT INTO o VALUES (300, 'r1', 3)");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("CALL pgtrickle.refresh_stream_table('ranked')");
            assertThat(st.getWarnings().getMessage())
                    .isEqualTo("stream table \"public.ranked\" using FULL refresh: a window function without PARTITION BY: every change recomputes every row, which FULL does at lower cost");
        }
        assertThat(db.api.history("ranked", 1).get(0).reason()).isEqualTo("differential not possible: a window function without PARTITION BY: every change recomputes every row, which FULL does at lower cost");
        db.assertOracle("ranked");
    }

    @Test
    void forceFullRefreshMakesEveryRefreshFullWithANotice() throws Exception {
        db.api.create(CreateOptions.of("ff", "SELECT region, count(*) AS n FROM o GROUP BY region"));
        db.exec("INSERT INTO o VALUES (101, 'r9', 1)");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET pg_trickle.force_full_refresh = on");
            st.execute("CALL pgtrickle.refresh_stream_table('ff')");
            SQLWarning w = st.getWarnings();
            assertThat((Object) w).isNotNull();
            assertThat(w.getMessage()).isEqualTo("stream table \"public.ff\" using FULL refresh: pg_trickle.force_full_refresh is on");
        }
        HistoryEntry h = db.api.history("ff", 1).get(0);
        assertThat(h.action()).isEqualTo("FULL");
        assertThat(h.reason()).isEqualTo("pg_trickle.force_full_refresh is on");
        assertThat(db.queryString("SELECT was_full_fallback::text FROM pgtrickle.pgt_refresh_history ORDER BY refresh_id DESC LIMIT 1"))
                .isEqualTo("true");
        db.assertOracle("ff");
        db.exec("INSERT INTO o VALUES (102, 'r9', 1)");
        assertThat(db.api.refresh("ff").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("ff");
    }

    @Test
    void aLargeChangeVolumeIsRefreshedFull() {
        db.api.create(CreateOptions.of("big_change", "SELECT id, amount FROM o WHERE amount > 10"));
        db.exec("UPDATE o SET amount = amount + 1");   // 200 change rows; sources ~1000 (floor) * 0.1
        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.differential_max_change_ratio = 0.1");
        try {
            RefreshResult r = db.api.refresh("big_change");
            assertThat(r.action()).isEqualTo("FULL");
            assertThat(r.reason()).contains("exceed pg_trickle.differential_max_change_ratio");
        } finally {
            db.exec("ALTER DATABASE " + db.database.name() + " RESET pg_trickle.differential_max_change_ratio");
        }
        db.assertOracle("big_change");
        db.exec("UPDATE o SET amount = amount + 1 WHERE id < 5");
        assertThat(db.api.refresh("big_change").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("big_change");
    }

    /**
     * The cost guard reads the samples the refreshes leave on the catalog row, so the tests rewrite
     * them: differential refreshes made slow (or fast) and a FULL made fast.
     */
    private void recordTimes(String streamTable, long millis, Long changeRows, int newest) {
        db.exec("UPDATE pgtrickle.pgt_stream_tables s SET recent_diff_costs = (SELECT array_agg(CASE WHEN c.i <= " + newest
                + " THEN ROW(c.seq, " + millis + ", " + (changeRows == null ? "c.n" : changeRows) + ")::pgtrickle.refresh_cost"
                + " ELSE ROW(c.seq, c.ms, c.n)::pgtrickle.refresh_cost END ORDER BY c.i)"
                + " FROM unnest(s.recent_diff_costs) WITH ORDINALITY c(seq, ms, n, i))"
                + " WHERE s.pgt_name = '" + streamTable + "'");
    }

    /** {@link Db#create} turns the guard off for the differential suites; these tests take the default. */
    private void guardAsByDefault() {
        db.exec("ALTER DATABASE " + db.database.name() + " RESET pg_trickle.cost_model_safety_margin");
    }

    private void lastFullMillis(String streamTable, double millis) {
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_full_ms = " + millis + " WHERE pgt_name = '" + streamTable + "'");
    }

    private String refreshIn(String streamTable, String... settings) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (String s : settings) {
                st.execute("SET " + s);
            }
            st.execute("CALL pgtrickle.refresh_stream_table('" + streamTable + "')");
            SQLWarning w = st.getWarnings();
            return w == null ? null : w.getMessage();
        }
    }

    @Test
    void aDifferentialRefreshThatRecentlyCostMoreThanFullIsDoneFull() throws Exception {
        guardAsByDefault();
        db.api.create(CreateOptions.of("guarded", "SELECT region, sum(amount) AS total FROM o GROUP BY region"));
        for (int i = 1; i <= 3; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + i);
            assertThat(db.api.refresh("guarded").action()).isEqualTo("DIFFERENTIAL");
        }
        recordTimes("guarded", 200, 10L, 3);
        lastFullMillis("guarded", 20);

        // evidence from changes of 10 rows says nothing about a change of 2 (one updated row)
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 4");
        assertThat(db.api.refresh("guarded").action()).isEqualTo("DIFFERENTIAL");
        recordTimes("guarded", 200, null, 1);
        db.assertOracle("guarded");

        // 8 change rows: changes of 10 count (a quarter more is allowed); the newest three took 200 ms
        db.exec("UPDATE o SET amount = amount + 1 WHERE id BETWEEN 5 AND 8");
        String notice = refreshIn("guarded");
        HistoryEntry h = db.api.history("guarded", 1).get(0);
        assertThat(h.action()).isEqualTo("FULL");
        assertThat(h.reason()).isEqualTo("recent differential refreshes of up to 10 change rows took a median of 200.0 ms,"
                + " the last FULL refresh 20.0 ms (pg_trickle.cost_model_safety_margin = 0.8); this one has 8 change rows");
        assertThat(notice).isEqualTo("stream table \"public.guarded\" using FULL refresh: " + h.reason());
        assertThat(db.queryString("SELECT was_full_fallback::text FROM pgtrickle.pgt_refresh_history ORDER BY refresh_id DESC LIMIT 1"))
                .isEqualTo("true");
        db.assertOracle("guarded");

        // 0 turns the guard off
        lastFullMillis("guarded", 20);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id BETWEEN 5 AND 8");
        assertThat(refreshIn("guarded", "pg_trickle.cost_model_safety_margin = 0")).isNull();
        assertThat(db.api.history("guarded", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
        recordTimes("guarded", 200, null, 1);

        // a value out of range is reported and the default used (not the maximum 10: 200 ms < 10 x 30 ms)
        lastFullMillis("guarded", 30);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id BETWEEN 5 AND 8");
        assertThat(refreshIn("guarded", "pg_trickle.cost_model_safety_margin = 10.5"))
                .isEqualTo("invalid value for pg_trickle.cost_model_safety_margin: '10.5'; the default 0.8 is used");
        assertThat(db.api.history("guarded", 1).get(0).action()).as("the default margin decided").isEqualTo("FULL");

        // the margin against the last FULL (30 ms): 200 ms < 7 x 30 ms, 200 ms >= 6 x 30 ms
        lastFullMillis("guarded", 30);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id BETWEEN 5 AND 8");
        refreshIn("guarded", "pg_trickle.cost_model_safety_margin = 7");
        assertThat(db.api.history("guarded", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
        recordTimes("guarded", 200, null, 1);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id BETWEEN 5 AND 8");
        refreshIn("guarded", "pg_trickle.cost_model_safety_margin = 6");
        assertThat(db.api.history("guarded", 1).get(0).action()).isEqualTo("FULL");
        db.assertOracle("guarded");
    }

    /** The samples describe the query that was measured: a new defining query starts without them. */
    @Test
    void aNewDefiningQueryForgetsTheOldQuerysCosts() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("redefined", "SELECT region, sum(amount) AS total FROM o GROUP BY region"));
        for (int i = 0; i < 3; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = 60");
            assertThat(db.api.refresh("redefined").action()).isEqualTo("DIFFERENTIAL");
        }
        recordTimes("redefined", 200, null, 3);
        lastFullMillis("redefined", 10);
        db.api.createOrReplace(CreateOptions.of("redefined", "SELECT region, max(amount) AS top FROM o GROUP BY region"));
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 60");
        assertThat(db.api.refresh("redefined").action()).isIn("REINITIALIZE", "DIFFERENTIAL");
        lastFullMillis("redefined", 10);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 60");
        assertThat(db.api.refresh("redefined").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("redefined");
    }

    private void threeSlowRefreshes(String streamTable, int id) {
        for (int i = 0; i < 3; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id);
            assertThat(db.api.refresh(streamTable).action()).isEqualTo("DIFFERENTIAL");
        }
        recordTimes(streamTable, 200, null, 3);
    }

    /** Refreshes that find nothing do not age the samples: calls more frequent than changes keep the guard. */
    @Test
    void refreshesThatFindNothingDoNotAgeTheSamples() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("idle", "SELECT region, count(*) AS n FROM o GROUP BY region"));
        threeSlowRefreshes("idle", 70);
        lastFullMillis("idle", 10);
        for (int i = 0; i < 60; i++) {
            assertThat(db.api.refresh("idle").action()).isEqualTo("NO_DATA");
        }
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 70");
        assertThat(db.api.refresh("idle").action()).isEqualTo("FULL");
        db.assertOracle("idle");
    }

    /** The last FULL refresh's time is scaled by the sources' size then and now. */
    @Test
    void theLastFullTimeIsScaledByHowTheSourcesGrewSince() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("grown", "SELECT region, count(*) AS n FROM o GROUP BY region"));
        threeSlowRefreshes("grown", 71);
        // a FULL of 100 ms over 10 rows: over the 100 rows now it would take 1 s, more than the 200 ms
        lastFullMillis("grown", 100);
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_full_source_rows = 10 WHERE pgt_name = 'grown'");
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 71");
        assertThat(db.api.refresh("grown").action()).isEqualTo("DIFFERENTIAL");
        recordTimes("grown", 200, null, 1);
        // over 200 rows then, 50 ms now
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_full_source_rows = 200 WHERE pgt_name = 'grown'");
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 71");
        RefreshResult r = db.api.refresh("grown");
        assertThat(r.action()).isEqualTo("FULL");
        assertThat(r.reason()).contains("the last FULL refresh 100.0 ms over 200 source rows, now 100 (");
        assertThat(db.queryString("SELECT last_full_source_rows::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'grown'"))
                .isEqualTo("100");
        db.assertOracle("grown");
    }

    /** Setting the refresh mode, even to the one it has, starts the guard afresh. */
    @Test
    void settingTheRefreshModeForgetsTheCosts() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("remoded", "SELECT region, count(*) AS n FROM o GROUP BY region"));
        threeSlowRefreshes("remoded", 72);
        lastFullMillis("remoded", 10);
        db.api.alter("remoded", AlterOptions.none().withRefreshMode(RefreshMode.DIFFERENTIAL));
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 72");
        assertThat(db.api.refresh("remoded").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("remoded");
    }

    @Test
    void anInvalidChangeRatioIsReportedAndTheDefaultUsed() throws Exception {
        db.api.create(CreateOptions.of("ratio", "SELECT id, amount FROM o WHERE amount > 10"));
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 73");
        assertThat(refreshIn("ratio", "pg_trickle.differential_max_change_ratio = '1e400'"))
                .isEqualTo("invalid value for pg_trickle.differential_max_change_ratio: '1e400'; the default 0.5 is used");
        assertThat(db.api.history("ratio", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 73");
        assertThat(refreshIn("ratio", "pg_trickle.differential_max_change_ratio = 'half'"))
                .isEqualTo("invalid value for pg_trickle.differential_max_change_ratio: 'half'; the default 0.5 is used");
        assertThat(db.api.get("ratio").status()).isEqualTo(io.pgtrickle.core.api.Status.ACTIVE);
        db.assertOracle("ratio");
    }

    /** Numbers as people write them are read without a subtransaction, and mean what they say. */
    @Test
    void aChangeRatioWrittenInAnyPlainFormIsRead() throws Exception {
        db.api.create(CreateOptions.of("ratio_forms", "SELECT id, amount FROM o WHERE amount > 10"));
        int id = 80;
        for (String tiny : List.of("' 1e-3 '", "'.001'", "'+0.0010'", "'1E-3'")) {  // 1 row of at least 1,000
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id++);
            assertThat(refreshIn("ratio_forms", "pg_trickle.differential_max_change_ratio = " + tiny))  // a NOTICE, no WARNING
                    .startsWith("stream table \"public.ratio_forms\" using FULL refresh");
            HistoryEntry h = db.api.history("ratio_forms", 1).get(0);
            assertThat(h.action()).as(tiny).isEqualTo("FULL");
            assertThat(h.reason()).contains("exceed pg_trickle.differential_max_change_ratio (0.001)");
        }
        for (String ample : List.of("'0.5'", "'5e-1'", "' 1 '", "'0'")) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id++);
            assertThat(refreshIn("ratio_forms", "pg_trickle.differential_max_change_ratio = " + ample)).isNull();
            assertThat(db.api.history("ratio_forms", 1).get(0).action()).as(ample).isEqualTo("DIFFERENTIAL");
        }
        // read as a double, as before and as the Java side does: just above 1 is 1
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id++);
        assertThat(refreshIn("ratio_forms", "pg_trickle.differential_max_change_ratio = '1.00000000000000001'")).isNull();
        assertThat(db.api.history("ratio_forms", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
        // out of range, too small for a double, too long, or not plain under either string syntax:
        // a warning and the default, never a failed refresh
        for (String bad : List.of("'1.5'", "'1e-400'", "'0." + "0".repeat(400) + "1'", "'" + "9".repeat(200) + "'", "'1x'", "'NaN'")) {
            for (String conforming : List.of("on", "off")) {
                db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id);
                assertThat(refreshIn("ratio_forms", "standard_conforming_strings = " + conforming,
                        "pg_trickle.differential_max_change_ratio = " + bad))
                        .as(bad + ", standard_conforming_strings " + conforming)
                        .isEqualTo("invalid value for pg_trickle.differential_max_change_ratio: " + bad + "; the default 0.5 is used");
                assertThat(db.api.history("ratio_forms", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
            }
        }
        // white space the cast does not skip (an ideographic space; a no-break one under ICU) is not plain either
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + id);
        assertThat(refreshIn("ratio_forms", "pg_trickle.differential_max_change_ratio = E'0.5\\u3000'"))
                .startsWith("invalid value for pg_trickle.differential_max_change_ratio: '0.5").endsWith("'; the default 0.5 is used");
        assertThat(db.api.history("ratio_forms", 1).get(0).action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("ratio_forms");
    }

    @Test
    void oneSlowDifferentialRefreshAmongFastOnesDoesNotSwitchToFull() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("steady", "SELECT id, amount FROM o WHERE amount > 10"));
        for (int i = 1; i <= 3; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = " + (20 + i));
            assertThat(db.api.refresh("steady").action()).isEqualTo("DIFFERENTIAL");
        }
        recordTimes("steady", 1, null, 3);
        recordTimes("steady", 5000, null, 1);  // waited on a lock, say
        lastFullMillis("steady", 1);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 30");
        assertThat(db.api.refresh("steady").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("steady");
    }

    @Test
    void differentialRefreshesBelowFiftyMillisecondsNeverSwitchToFull() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("cheap", "SELECT id, amount FROM o WHERE amount > 10"));
        for (int i = 0; i < 3; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = 40");
            assertThat(db.api.refresh("cheap").action()).isEqualTo("DIFFERENTIAL");
        }
        recordTimes("cheap", 49, null, 3);
        lastFullMillis("cheap", 0.5);
        db.exec("UPDATE o SET amount = amount + 1 WHERE id = 41");
        assertThat(db.api.refresh("cheap").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("cheap");
    }

    /**
     * While the guard refreshes FULL, one differential refresh measures again once the newest
     * sample is older than 50 refreshes; one fast measurement does not outvote two slow ones.
     */
    @Test
    void whileTheGuardRefreshesFullOneDifferentialRefreshInFiftyMeasuresAgain() {
        guardAsByDefault();
        db.api.create(CreateOptions.of("probe", "SELECT region, count(*) AS n FROM o GROUP BY region"));
        lastFullMillis("probe", 10);
        for (int i = 0; i < 3; i++) {  // one and two slow refreshes are not enough
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = 50");
            assertThat(db.api.refresh("probe").action()).isEqualTo("DIFFERENTIAL");
            recordTimes("probe", 200, null, 1);
        }
        List<String> actions = new ArrayList<>();
        for (int i = 0; i < 52; i++) {
            db.exec("UPDATE o SET amount = amount + 1 WHERE id = 50");
            actions.add(db.api.refresh("probe").action());
        }
        assertThat(actions.subList(0, 50)).containsOnly("FULL");
        assertThat(actions.subList(50, 52)).containsExactly("DIFFERENTIAL", "FULL");
        db.assertOracle("probe");
    }

    @Test
    void switchingModesKeepsRowIdentities() {
        db.api.create(CreateOptions.of("sw", "SELECT region, max(amount) AS top FROM o GROUP BY region"));
        String before = db.queryString("SELECT string_agg(__pgt_row_id::text, ',' ORDER BY region) FROM sw");
        db.api.alter("sw", AlterOptions.none().withRefreshMode(RefreshMode.FULL));
        db.exec("INSERT INTO o VALUES (200, 'r1', 1000)");
        assertThat(db.api.refresh("sw").action()).isEqualTo("FULL");
        db.api.alter("sw", AlterOptions.none().withRefreshMode(RefreshMode.DIFFERENTIAL));
        db.exec("DELETE FROM o WHERE id = 200");
        assertThat(db.api.refresh("sw").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.queryString("SELECT string_agg(__pgt_row_id::text, ',' ORDER BY region) FROM sw")).isEqualTo(before);
        db.assertOracle("sw");
    }

    @Test
    void explainShowsTheTreeStrategiesAndSqlInThreeFormats() {
        db.api.create(CreateOptions.of("ex", "SELECT region, sum(amount) AS total FROM o WHERE amount > 5 GROUP BY region"));
        String text = db.api.explain("ex", ExplainFormat.TEXT);
        // PostgreSQL 15 prints single-table column references qualified, 18 does not.
        assertThat(text).contains("refresh mode: DIFFERENTIAL", "row identity: hash of the GROUP BY key",
                        "[algebraic: COUNT/SUM/AVG from hidden columns in O(change)", "-> Scan public.o (amount, region, id)", // the key: the previous state is read by it
                        "differential refresh SQL")
                .containsPattern("-> Aggregate GROUP BY (o\\.)?region; sum\\((o\\.)?amount\\)")
                .containsPattern("-> Filter \\((o\\.)?amount > 5\\)");
        // One MERGE that joins the stream table once where it can return the old row (18+), writable CTEs before.
        String apply = db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'ex'");
        if (db.queryLong("SELECT current_setting('server_version_num')::bigint") >= 180000) {
            assertThat(apply).contains("MERGE INTO \"public\".\"ex\"").doesNotContain("UPDATE \"public\"")
                    .doesNotContain("c0 LEFT JOIN \"public\".\"ex\"");
        } else {
            assertThat(apply).doesNotContain("MERGE").contains("UPDATE \"public\".\"ex\"");
        }
        // O(change): the differential statement reads the change buffer and the stored groups, never the source.
        assertThat(db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'ex'"))
                .doesNotContain("FROM public.o").contains("pgtrickle_changes.");
        String json = db.api.explain("ex", ExplainFormat.JSON);
        assertThat(db.queryString("SELECT ('" + json.replace("'", "''") + "'::jsonb)->'operators'->>'operator'")).isEqualTo("Aggregate");
        assertThat(db.api.explain("ex", ExplainFormat.DOT)).startsWith("digraph pgtrickle {").contains("-> st;");
        db.api.create(CreateOptions.of("ex3", "SELECT region, string_agg(amount::text, ',') AS all_amounts FROM o GROUP BY region"));
        assertThat(db.api.explain("ex3", ExplainFormat.TEXT)).contains("[group recompute (affected groups only)]");
        db.api.create(CreateOptions.of("ex2", "SELECT region, amount, rank() OVER (ORDER BY amount) AS r FROM o"));
        assertThat(db.api.explain("ex2", ExplainFormat.TEXT)).contains("refresh mode: FULL")
                .contains("differential: not possible: a window function without PARTITION BY");
    }
}
