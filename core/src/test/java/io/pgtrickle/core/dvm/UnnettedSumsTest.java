package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * COUNT, and SUM and AVG of integer columns, of one table grouped by columns sum its changed rows as
 * captured, without netting them first (docs/DIFFERENTIAL.md, "Sums without netting"): a row inserted and
 * deleted in one window is summed in and out again. Checked in DIFFERENTIAL, FULL and IMMEDIATE
 * against the query after each step, over windows full of such rows.
 */
class UnnettedSumsTest {
    private static final String UNNETTED = "summed as captured, without netting";
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(UnnettedSumsTest.class);
        twins = new Twins(db).withImmediate();
        db.exec("CREATE TABLE ev (id bigint PRIMARY KEY, k int NOT NULL, label text, v int, small smallint, big bigint, x numeric)",
                "INSERT INTO ev SELECT g, g % 7, CASE WHEN g % 5 = 0 THEN NULL ELSE 'l' || g % 3 END, g % 50, g % 9, g::bigint * 1000000007,"
                        + " CASE WHEN g % 4 = 0 THEN g * 1.25 WHEN g % 4 = 1 THEN g END FROM generate_series(1, 200) g",
                "CREATE TABLE bag (k int, v int)", "INSERT INTO bag SELECT g % 4, g % 6 FROM generate_series(1, 40) g");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT k, count(*) AS n, sum(v) AS total FROM ev GROUP BY k",
            "SELECT e.label, e.k, count(e.v) AS nv, avg(e.v) AS mean, sum(e.small) AS s2, sum(e.big) AS s8 FROM ev e GROUP BY e.label, e.k",
            "SELECT k, count(x) AS nx, sum(small) AS s2 FROM ev GROUP BY k",
            "SELECT count(*) AS n, sum(v) AS s, avg(big) AS a FROM ev",
            "SELECT k, sum(x) AS sx, avg(x) AS ax, count(x) AS nx FROM ev GROUP BY k",
            "SELECT k, count(*) AS n, sum(v) AS s FROM bag GROUP BY k"})
    void windowsOfTransientAndRepeatedChangesSumToTheQuery(String query) {
        twins.define("us", query);
        assertThat(explain("us")).contains(UNNETTED);
        twins.step("us", "INSERT INTO ev VALUES (1000, 3, 'l9', 7, 1, 5, 2.50)", "DELETE FROM ev WHERE id = 1000",  // in and out
                "INSERT INTO ev VALUES (1001, 99, 'new', 1, 1, 1, 1)", "DELETE FROM ev WHERE k = 99",            // a group in and out
                "UPDATE ev SET v = v + 1 WHERE id % 3 = 0", "UPDATE ev SET v = v - 1 WHERE id % 3 = 0",         // back where it was
                "UPDATE ev SET k = (k + 1) % 7, label = 'moved' WHERE id % 10 = 0",                              // across groups
                "INSERT INTO bag VALUES (1, 1), (1, 1), (9, 2)", "DELETE FROM bag WHERE k = 9", "UPDATE bag SET v = v + 1 WHERE k = 2");
        twins.step("us", "UPDATE ev SET v = NULL, x = NULL WHERE id % 6 = 0", "UPDATE ev SET x = x * 10 WHERE id % 8 = 1",
                "UPDATE ev SET v = 2147483647, big = 9223372036854775807 WHERE id IN (11, 12, 13)",
                "DELETE FROM ev WHERE k = 2", "DELETE FROM bag WHERE k = 3");
        twins.step("us", "INSERT INTO ev SELECT g, g % 7, 'l1', g % 50, g % 9, g, g * 0.01 FROM generate_series(300, 340) g",
                "UPDATE ev SET x = 1.5 WHERE id = 300", "UPDATE ev SET x = 1.50 WHERE id = 300",             // a scale that comes and goes
                "DELETE FROM ev WHERE id BETWEEN 300 AND 310", "INSERT INTO bag SELECT 0, g FROM generate_series(1, 5) g");
    }

    /**
     * MIN/MAX, a WHERE, expressions, a join: netted as before (an expression could raise on a transient
     * row). A netted weight can be a product of duplicate counts, so no integer is multiplied by it in
     * bigint.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT k, count(*) AS n, max(v) AS top FROM ev GROUP BY k",
            "SELECT k, sum(v) AS s FROM ev WHERE v > 3 GROUP BY k",
            "SELECT k % 3 AS bucket, sum(v) AS s FROM ev GROUP BY k % 3",
            "SELECT k, sum(v * 2) AS s FROM ev GROUP BY k",
            "SELECT e.k, sum(b.v) AS s FROM ev e JOIN bag b ON b.k = e.k GROUP BY e.k"})
    void otherAggregatesAreNettedFirst(String query) {
        twins.define("net", query);
        assertThat(explain("net")).doesNotContain(UNNETTED);
        assertThat(db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'net'"))
                .doesNotContain("::bigint * ");
        twins.step("net", "INSERT INTO ev VALUES (1000, 3, 'l9', 7, 1, 5, 2.50)", "DELETE FROM ev WHERE id = 1000",
                "UPDATE ev SET v = v + 1 WHERE id % 3 = 0", "INSERT INTO bag VALUES (1, 1)");
    }

    /**
     * A numeric NaN or infinity summed in and out again leaves the group's counts of them as they were
     * (a running sum that held one would have stayed NaN), within one window and across refreshes.
     */
    @Test
    void aTransientNaNOrInfinityLeavesANumericSumAsItWas() {
        twins.define("nsum", "SELECT k, sum(x) AS sx, avg(x) AS ax FROM ev GROUP BY k");
        assertThat(explain("nsum")).contains(UNNETTED);
        twins.step("nsum", "INSERT INTO ev VALUES (1001, 1, 'x', 1, 1, 1, 'NaN'), (1002, 2, 'x', 1, 1, 1, 'Infinity'),"
                + " (1003, 2, 'x', 1, 1, 1, '-Infinity')", "DELETE FROM ev WHERE id > 1000", "UPDATE ev SET x = x + 1 WHERE k = 1");
        twins.step("nsum", "INSERT INTO ev VALUES (1004, 3, 'x', 1, 1, 1, 'Infinity'), (1005, 4, 'x', 1, 1, 1, 'NaN')");
        twins.step("nsum", "UPDATE ev SET x = '-Infinity' WHERE id = 1004", "UPDATE ev SET x = 2.5 WHERE id = 1005");
        twins.step("nsum", "DELETE FROM ev WHERE id = 1004");
    }

    /** An argument that can raise is not summed unnetted: a transient 0 never reaches the division. */
    @Test
    void anArgumentThatCanRaiseNeverSeesATransientRow() {
        Twins withoutImmediate = new Twins(db); // IMMEDIATE sees the 0 after its statement, and raises as FULL would
        db.exec("CREATE TABLE r (id int PRIMARY KEY, k int, v int)", "INSERT INTO r SELECT g, g % 3, 1 + g % 9 FROM generate_series(1, 30) g");
        withoutImmediate.define("ratio", "SELECT k, sum(100 / v) AS q FROM r GROUP BY k");
        assertThat(explain("ratio")).doesNotContain(UNNETTED);
        withoutImmediate.step("ratio", "INSERT INTO r VALUES (1000, 1, 0)", "DELETE FROM r WHERE id = 1000",
                "UPDATE r SET v = 0 WHERE id = 5", "UPDATE r SET v = 5 WHERE id = 5", "UPDATE r SET v = v + 1 WHERE id < 20");
    }

    private String explain(String name) {
        return db.api.explain(name, StreamTables.ExplainFormat.TEXT);
    }
}
