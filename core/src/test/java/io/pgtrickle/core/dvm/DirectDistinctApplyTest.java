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
 * A DISTINCT is applied on PostgreSQL 18 by one MERGE that adds the net change of each distinct row
 * to its stored count (docs/DIFFERENTIAL.md, "Applying a delta"): rows appear, are counted up and
 * down, vanish when their count reaches 0 and come back. Checked in DIFFERENTIAL, FULL and IMMEDIATE
 * against the query after each step, the hidden count and row ids included, and the counts a refresh
 * reports (a change of a count alone is no change a reader sees).
 */
class DirectDistinctApplyTest {
    private static final String DIRECT = "one MERGE adds the change to each stored row's count";
    private Db db;
    private Twins twins;
    private boolean direct;

    @BeforeEach
    void setUp() {
        db = Db.create(DirectDistinctApplyTest.class);
        twins = new Twins(db).withImmediate();
        direct = db.queryLong("SELECT current_setting('server_version_num')::bigint") >= 180000;
        db.exec("CREATE TABLE item (id int PRIMARY KEY, color text, size int, price numeric, shop int)",
                "INSERT INTO item SELECT g, CASE WHEN g % 7 = 0 THEN NULL ELSE 'c' || g % 3 END, g % 4, (g % 5) * 1.5, g % 2"
                        + " FROM generate_series(1, 60) g",
                "CREATE TABLE shop (id int PRIMARY KEY, region text)",
                "INSERT INTO shop VALUES (0, 'north'), (1, 'south')");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT DISTINCT color, size FROM item",
            "SELECT DISTINCT color, price FROM item WHERE size > 0",
            "SELECT DISTINCT s.region, i.size % 2 AS odd FROM item i JOIN shop s ON s.id = i.shop"})
    void rowsAppearAreCountedAndVanishAsTheQuerySays(String query) {
        twins.define("d", query);
        assertThat(explain("d").contains(DIRECT)).as("explain names the MERGE where it is used").isEqualTo(direct);
        assertThat(db.diffApplySql("d").contains("LEFT JOIN")).as("the stored counts are not read in a join first").isNotEqualTo(direct);
        twins.step("d", "INSERT INTO item VALUES (100, 'new', 9, 2.5, 0)",                     // a new distinct row
                "UPDATE item SET size = size + 1 WHERE id % 9 = 0", "UPDATE item SET size = size - 1 WHERE id % 9 = 0"); // back
        twins.step("d", "DELETE FROM item WHERE color = 'c1'",                                  // rows vanish
                "INSERT INTO item VALUES (101, 'c2', 1, 1.5, 1)", "DELETE FROM item WHERE id = 101"); // in and out
        twins.step("d", "UPDATE item SET price = price + 1 WHERE id % 4 = 1",
                "UPDATE item SET color = NULL WHERE id % 5 = 0", "INSERT INTO shop VALUES (2, 'east')",
                "UPDATE item SET shop = 2 WHERE id % 6 = 0");
        twins.step("d", "INSERT INTO item SELECT g, 'c1', g % 4, 3.0, g % 2 FROM generate_series(200, 210) g"); // they come back
        twins.step("d", "DELETE FROM item");
        twins.step("d", "INSERT INTO item VALUES (1, 'c0', 0, 0, 0)");
    }

    /** What a refresh reports: rows that appear or vanish, not counts that change. */
    @Test
    void aRefreshCountsRowsThatAppearOrVanishNotCountsThatChange() {
        twins.define("r", "SELECT DISTINCT color FROM item");
        RefreshResult counts = twins.step("r", "INSERT INTO item VALUES (100, 'c0', 1, 1, 0)", "DELETE FROM item WHERE id = 1");
        assertThat(counts.rowsInserted() + counts.rowsDeleted()).isZero();
        RefreshResult rows = twins.step("r", "INSERT INTO item VALUES (101, 'fresh', 1, 1, 0)", "DELETE FROM item WHERE color = 'c2'");
        assertThat(rows.rowsInserted()).isEqualTo(1);
        assertThat(rows.rowsDeleted()).isEqualTo(1);
    }


    private String explain(String name) {
        return db.api.explain(name, StreamTables.ExplainFormat.TEXT);
    }
}
