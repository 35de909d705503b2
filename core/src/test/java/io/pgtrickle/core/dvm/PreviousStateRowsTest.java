package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Subqueries and derived aggregates read a table's state before the refresh window one row per row.
 * A keyed table is read so as it is, with no set-returning call per row; only the changed contents
 * of a table without a key can stand for several equal rows, and only they are expanded. Checked in
 * DIFFERENTIAL, FULL and IMMEDIATE against the query after each step, with equal rows deleted one
 * at a time, multiplied and moved.
 */
class PreviousStateRowsTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(PreviousStateRowsTest.class);
        twins = new Twins(db).withImmediate();
        db.exec("CREATE TABLE a (id int PRIMARY KEY, x int)",
                "INSERT INTO a SELECT g, g % 7 FROM generate_series(1, 30) g",
                "CREATE TABLE b (k int, n int, v int, PRIMARY KEY (k, n))",
                "INSERT INTO b SELECT g % 7, g, g % 5 FROM generate_series(1, 40) g",
                "CREATE TABLE dup (y int, w int)",  // no key: equal rows
                "INSERT INTO dup SELECT g % 5, 1 FROM generate_series(1, 12) g",
                "INSERT INTO dup SELECT 3, 1 FROM generate_series(1, 3) g");
    }

    @Test
    void keyedTablesInSubqueriesAreReadWithoutExpansion() {
        twins.define("in_keyed", "SELECT a.id, a.x FROM a WHERE a.x IN (SELECT b.k FROM b GROUP BY b.k HAVING sum(b.v) > 10)");
        twins.define("exists_keyed", "SELECT a.id FROM a WHERE EXISTS (SELECT 1 FROM b WHERE b.k = a.x AND b.v > 2)");
        twins.define("scalar_keyed", "SELECT a.id, (SELECT max(b.v) FROM b WHERE b.k = a.x) AS top FROM a");
        twins.define("derived_keyed", "SELECT a.id, s.total FROM a JOIN (SELECT k, sum(v) AS total FROM b GROUP BY k) s ON s.k = a.x");
        // keyed tables under a LEFT JOIN: a padded row weighs one too
        twins.define("derived_left", "SELECT a.id, s.m, s.c FROM a JOIN (SELECT a2.x, max(b.v) AS m, count(b.n) AS c"
                + " FROM a a2 LEFT JOIN b ON b.k = a2.x GROUP BY a2.x) s ON s.x = a.x");
        for (String st : new String[] {"in_keyed", "exists_keyed", "scalar_keyed", "derived_keyed", "derived_left"}) {
            assertThat(db.diffApplySql(st)).as(st).doesNotContain("pgtrickle._ordinals(1, ");
        }
        String[][] steps = {
            {"UPDATE b SET v = v + 3 WHERE k = 2", "DELETE FROM b WHERE k = 4 AND n < 20"},
            {"UPDATE b SET k = 5 WHERE n BETWEEN 10 AND 15", "INSERT INTO b VALUES (4, 100, 9), (4, 101, 9)",
             "UPDATE a SET x = 4 WHERE id <= 3"},
            {"DELETE FROM b WHERE k = 6", "INSERT INTO b VALUES (6, 6, 4)", "DELETE FROM b WHERE (k, n) = (6, 6)",
             "UPDATE b SET n = n + 1000 WHERE k = 1"},
            {"INSERT INTO b VALUES (6, 60, 1), (6, 61, 3)", "DELETE FROM b WHERE k = 0"},  // padding goes and comes
        };
        for (String[] dml : steps) {
            stepAll(dml, "in_keyed", "exists_keyed", "scalar_keyed", "derived_keyed", "derived_left");
        }
    }

    @Test
    void equalRowsOfAKeylessTableCountInSubqueriesAndDerivedAggregates() {
        twins.define("in_dup", "SELECT a.id, a.x FROM a WHERE a.x IN (SELECT y FROM dup GROUP BY y HAVING count(*) >= 3)");
        twins.define("count_dup", "SELECT a.id, (SELECT count(*) FROM dup d WHERE d.y = a.x) AS n FROM a");
        twins.define("sum_dup", "SELECT a.id FROM a WHERE a.x * 4 < (SELECT sum(w) FROM dup)");
        twins.define("derived_dup", "SELECT a.id, s.n FROM a JOIN (SELECT y, count(*) AS n, sum(w) AS s FROM dup GROUP BY y) s ON s.y = a.x");
        // a keyed and a keyless table joined under a derived aggregate
        twins.define("derived_mixed", "SELECT a.id, s.n FROM a JOIN (SELECT d.y, count(*) AS n, sum(b.v) AS s"
                + " FROM b JOIN dup d ON d.y = b.k GROUP BY d.y) s ON s.y = a.x");
        // no column of the keyless table read
        twins.define("rows_dup", "SELECT a.id FROM a WHERE a.x * 2 < (SELECT count(*) FROM dup)");
        for (String st : new String[] {"in_dup", "count_dup", "sum_dup", "derived_dup", "derived_mixed", "rows_dup"}) {
            assertThat(db.diffApplySql(st)).as(st).contains("pgtrickle._ordinals(1, ");
        }
        String[][] steps = {
            // one of several equal rows goes, one more comes
            {"DELETE FROM dup WHERE ctid = (SELECT min(ctid) FROM dup WHERE y = 3)", "INSERT INTO dup VALUES (1, 1)"},
            // all copies of a value change together, a copy comes back
            {"UPDATE dup SET y = 6 WHERE y = 2", "INSERT INTO dup VALUES (2, 1)", "UPDATE a SET x = 6 WHERE id = 5"},
            // an equal row inserted and deleted in the window, the weights change
            {"INSERT INTO dup VALUES (4, 1)", "DELETE FROM dup WHERE ctid = (SELECT max(ctid) FROM dup WHERE y = 4)",
             "UPDATE dup SET w = 3 WHERE y = 0", "DELETE FROM dup WHERE y = 1"},
            {"INSERT INTO dup SELECT 5, 2 FROM generate_series(1, 4)", "DELETE FROM dup WHERE y = 3"},
        };
        for (String[] dml : steps) {
            stepAll(dml, "in_dup", "count_dup", "sum_dup", "derived_dup", "derived_mixed", "rows_dup");
        }
    }

    /** Runs {@code dml} once (checking the first one's IMMEDIATE twin after each statement), then refreshes and checks them all. */
    private void stepAll(String[] dml, String... streamTables) {
        twins.step(streamTables[0], dml);
        for (int i = 1; i < streamTables.length; i++) {
            twins.step(streamTables[i]);
        }
    }
}
