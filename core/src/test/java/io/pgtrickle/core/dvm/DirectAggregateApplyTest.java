package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A GROUP BY of COUNT, SUM and AVG is applied on PostgreSQL 18 by one MERGE that adds the change of
 * each group to its stored row (docs/DIFFERENTIAL.md, "Aggregates"): new groups inserted from their
 * change alone, groups whose count drops to 0 deleted, groups whose changes cancel out not written.
 * Checked in DIFFERENTIAL, FULL and IMMEDIATE against the query after each step, hidden columns and
 * row ids included (the twins' rows are compared whole), and the counts a refresh reports.
 */
class DirectAggregateApplyTest {
    private static final String DIRECT = "one MERGE adds the change to each stored group";
    private Db db;
    private Twins twins;
    private boolean direct;

    @BeforeEach
    void setUp() {
        db = Db.create(DirectAggregateApplyTest.class);
        twins = new Twins(db).withImmediate();
        direct = db.queryLong("SELECT current_setting('server_version_num')::bigint") >= 180000;
        db.exec("CREATE TABLE sale (id int PRIMARY KEY, shop text, k int, qty int, price numeric, weight double precision)",
                "INSERT INTO sale SELECT g, 'shop ' || g % 5, g % 3, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 11 END,"
                        + " CASE WHEN g % 4 = 0 THEN g * 0.5 WHEN g % 4 = 1 THEN g END, g / 3.0 FROM generate_series(1, 120) g",
                "CREATE TABLE shop (name text PRIMARY KEY, region text)",
                "INSERT INTO shop SELECT 'shop ' || g, 'r' || g % 2 FROM generate_series(0, 6) g");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT shop, count(*) AS n, sum(qty) AS total FROM sale GROUP BY shop",
            "SELECT shop, k, count(qty) AS nq, avg(qty) AS mean, sum(price) AS sp, avg(price) AS ap FROM sale GROUP BY shop, k",
            "SELECT k, sum(qty * 2) AS doubled, count(qty) AS nq FROM sale WHERE price IS NOT NULL GROUP BY k",
            "SELECT s.region, count(*) AS n, sum(x.qty) AS total, sum(x.qty) / count(*) AS per_sale"
                    + " FROM sale x JOIN shop s ON s.name = x.shop GROUP BY s.region",
            "SELECT shop, sum(price) * 2 AS twice, count(*) + 1 AS n1 FROM sale GROUP BY shop",
            // integer arithmetic over a sum of integers and a count, as the query has it (was numeric: 217 / 48 gave 5)
            "SELECT k, sum(qty) / count(*) AS per_sale, sum(qty) % 3 AS m3, count(*) / 7 AS weeks FROM sale GROUP BY k",
            // constants that read like the engine's own references stay constants (found in review)
            "SELECT shop, count(*) AS n, '__pgt_f.__pgt_n' AS note, '\"__pgt_f\".__pgt_zz' AS other FROM sale GROUP BY shop",
            "SELECT lower(shop) AS s, 'see lower(shop) here' AS note, count(*) AS n FROM sale GROUP BY lower(shop)",
            "SELECT lower(shop) AS s, k % 2 AS odd, CASE WHEN count(*) > 5 THEN 'many' ELSE 'few' END AS \"Size\","
                    + " k % 2 * 10 + count(*) AS mixed, sum(price::numeric(12,2)) AS fixed FROM sale GROUP BY lower(shop), k % 2"})
    void groupsAppearChangeCancelAndVanishAsTheQuerySays(String query) {
        twins.define("g", query);
        assertThat(explain("g").contains(DIRECT)).as("explain names the MERGE where it is used").isEqualTo(direct);
        assertThat(db.diffApplySql("g").startsWith("WITH d AS MATERIALIZED")).isEqualTo(direct);
        twins.step("g", "INSERT INTO sale VALUES (1000, 'shop 9', 1, NULL, NULL, 1)",            // a new group, its sums over NULLs only
                "INSERT INTO shop VALUES ('shop 9', 'r9')",
                "UPDATE sale SET qty = qty + 1 WHERE id % 9 = 0", "UPDATE sale SET qty = qty - 1 WHERE id % 9 = 0"); // back where it was
        twins.step("g", "DELETE FROM sale WHERE shop = 'shop 2'",                                  // a group vanishes
                "INSERT INTO sale VALUES (1001, 'shop 3', 2, 4, 2.50, 1)", "DELETE FROM sale WHERE id = 1001"); // in and out
        twins.step("g", "DELETE FROM sale WHERE shop = 'shop 1'",                                  // every row of a group replaced
                "INSERT INTO sale SELECT g, 'shop 1', g % 3, g % 4, g * 0.25, 1 FROM generate_series(2000, 2010) g",
                "UPDATE sale SET shop = 'shop 0', price = price * 10 WHERE id % 10 = 3",           // rows move between groups
                "UPDATE sale SET price = 'NaN' WHERE id = 5", "UPDATE sale SET price = 'Infinity' WHERE id = 6");
        twins.step("g", "DELETE FROM sale WHERE id IN (5, 6)", "INSERT INTO sale VALUES (1002, 'shop 2', 0, 1, 1.0, 1)"); // a group comes back
        twins.step("g", "DELETE FROM sale");
        twins.step("g", "INSERT INTO sale VALUES (1, 'shop 1', 1, 1, 1, 1)");
    }

    /** A stored group whose last non-NULL value goes while it keeps rows: its sum and mean become NULL, then come back. */
    @Test
    void aGroupLosingItsLastValueKeepsItsRowsWithNullSums() {
        twins.define("v", "SELECT shop, count(*) AS n, sum(qty) AS total, avg(price) AS mean, sum(price) AS sp FROM sale GROUP BY shop");
        twins.step("v", "UPDATE sale SET qty = NULL, price = NULL WHERE shop = 'shop 3'");
        twins.step("v", "UPDATE sale SET qty = 2, price = 1.25 WHERE id = 3", "UPDATE sale SET price = 0.25 WHERE id = 8");
        twins.step("v", "UPDATE sale SET price = NULL WHERE id = 8", "UPDATE sale SET price = 'Infinity' WHERE id = 13",
                "UPDATE sale SET price = '-Infinity' WHERE id = 18");
    }

    /** What a refresh reports and writes: a group whose changes cancel out is not rewritten. */
    @Test
    void aRefreshCountsWhatAReaderSeesChangeAndLeavesCancelledGroupsUnwritten() {
        twins.define("c", "SELECT shop, count(*) AS n, sum(qty) AS total FROM sale GROUP BY shop");
        String before = db.queryString("SELECT ctid::text FROM c WHERE shop = 'shop 4'");

        RefreshResult r = twins.step("c", "INSERT INTO sale VALUES (1000, 'shop 4', 0, 3, 1, 1)", "DELETE FROM sale WHERE id = 1000",
                "INSERT INTO sale VALUES (1001, 'new', 0, 3, 1, 1)",          // one group inserted
                "UPDATE sale SET qty = 100 WHERE id = 1",                     // one group's total changes
                "DELETE FROM sale WHERE shop = 'shop 2'");                    // one group deleted
        assertThat(r.rowsInserted()).isEqualTo(2);
        assertThat(r.rowsDeleted()).isEqualTo(2);
        assertThat(db.queryString("SELECT ctid::text FROM c WHERE shop = 'shop 4'")).isEqualTo(before);

        RefreshResult same = twins.step("c", "UPDATE sale SET qty = qty WHERE id = 3");  // a change no reader sees
        assertThat(same.rowsInserted() + same.rowsDeleted()).isZero();
    }

    /**
     * A value of a group that is gone, or of a group as if it were new when it is not, is never
     * evaluated: 100 / count(*) of a deleted group divided by zero (general form, found in review),
     * and so would sum / (count(*) - 1) of an existing group that gained one row, computed as a new group.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT shop, 100 / count(*) AS inv, max(qty) AS top FROM sale GROUP BY shop",
            "SELECT shop, 100 / count(*) AS inv FROM sale GROUP BY shop",
            "SELECT shop, sum(qty) / (count(*) - 1) AS x FROM sale GROUP BY shop"})
    void aValueOfAGroupThatIsGoneOrNotNewIsNeverEvaluated(String query) {
        twins.define("z", query);
        twins.step("z", "DELETE FROM sale WHERE shop = 'shop 3'");
        twins.step("z", "INSERT INTO sale VALUES (1000, 'shop 1', 0, 5, 1, 1)");
        twins.step("z", "UPDATE sale SET qty = qty + 1 WHERE shop = 'shop 2'", "DELETE FROM sale WHERE shop = 'shop 4'");
    }

    /** MIN/MAX (a removed extreme rescans its group) and aggregates without GROUP BY keep the general form. */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT shop, count(*) AS n, max(qty) AS top FROM sale GROUP BY shop",
            "SELECT count(*) AS n, sum(qty) AS total FROM sale"})
    void otherAggregatesKeepTheGeneralForm(String query) {
        twins.define("o", query);
        assertThat(explain("o")).doesNotContain(DIRECT);
        assertThat(db.diffApplySql("o")).doesNotStartWith("WITH d AS MATERIALIZED");
        twins.step("o", "INSERT INTO sale VALUES (1000, 'shop 9', 1, 50, 1, 1)", "DELETE FROM sale WHERE qty = 10",
                "UPDATE sale SET qty = qty + 1 WHERE id % 4 = 0");
    }


    private String explain(String name) {
        return db.api.explain(name, StreamTables.ExplainFormat.TEXT);
    }
}
