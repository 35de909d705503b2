package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * MIN/MAX read which values of a group came and went, so the changes are netted per group and value
 * first: by grouping the values where every key and argument prints equal values alike (integers,
 * dates, text in a deterministic collation), by comparing their text where not (numeric 1.0 = 1.00,
 * a case-blind collation). Either way the stream table equals its query in DIFFERENTIAL, FULL and
 * IMMEDIATE after each step, hidden columns included: values removed and put back in one refresh,
 * an extreme removed while a tie of it remains, the only extreme removed (the group is rescanned),
 * groups vanishing and coming back, NULLs.
 */
class MinMaxNettingTest {
    private static final String BY_TEXT = "::text) r.*";
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(MinMaxNettingTest.class);
        twins = new Twins(db).withImmediate();
        db.createCaseBlindCollation();
        db.exec("CREATE TABLE m (id int PRIMARY KEY, k int, v int, d date, t text, price numeric, tag text COLLATE public.case_blind,"
                        + " note text)",
                "INSERT INTO m SELECT g, g % 4, g % 7, date '2026-01-01' + g % 5, 'w' || g % 6, (g % 3) * 1.5,"
                        + " CASE WHEN g % 2 = 0 THEN 'red' ELSE 'Red' END, 'n' FROM generate_series(1, 60) g");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT k, min(v) AS lo, max(v) AS hi FROM m GROUP BY k",
            "SELECT k, t, min(d) AS first, max(v) AS top, count(*) AS n FROM m GROUP BY k, t",
            "SELECT min(t) AS lo, max(d) AS hi, sum(v) AS total FROM m",
            "SELECT k, min(v) AS lo, max(t) AS hi FROM m WHERE v IS NOT NULL GROUP BY k"})
    void valuesThatPrintAlikeAreNettedByGrouping(String query) {
        twins.define("g", query);
        assertThat(db.diffApplySql("g")).contains("GROUP BY r.").doesNotContain(BY_TEXT);
        exercise("g");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT price, min(v) AS lo, max(v) AS hi FROM m GROUP BY price",
            "SELECT k, min(v) AS lo, sum(price) AS total FROM m GROUP BY k",
            "SELECT lower(tag) AS t, max(v) AS hi FROM m GROUP BY lower(tag)"})
    void valuesThatMayPrintDifferentlyAreNettedByText(String query) {
        twins.define("x", query);
        assertThat(db.diffApplySql("x")).contains(BY_TEXT);
        exercise("x");
    }

    /**
     * Where the netting decides the result: through a join, a group that is born in the refresh
     * window gets a term of the old state with weight +1 and another with -1 (joined to a row that
     * is gone), which must cancel before the group's MIN is taken; a new group is not rescanned.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT a.k, min(b.v) AS lo, max(b.t) AS hi FROM a JOIN b ON b.aid = a.id GROUP BY a.k",
            "SELECT a.n, min(b.v) AS lo, max(b.t) AS hi FROM a JOIN b ON b.aid = a.id GROUP BY a.n"})
    void aGroupBornInTheWindowOfAJoinIsNettedBeforeItsExtremesAreTaken(String query) {
        db.exec("CREATE TABLE a (id int PRIMARY KEY, k int, n numeric)", "CREATE TABLE b (id int PRIMARY KEY, aid int, v int, t text)",
                "INSERT INTO a VALUES (1, 1, 1.0)");
        twins.define("j", query);
        assertThat(db.diffApplySql("j").contains(BY_TEXT)).isEqualTo(query.contains("a.n"));
        twins.step("j", "DELETE FROM a WHERE id = 1", "INSERT INTO b VALUES (1, 1, 5, 'a')",
                "INSERT INTO a VALUES (2, 1, 1.0)", "INSERT INTO b VALUES (2, 2, 10, 'z')");
        twins.step("j", "INSERT INTO a VALUES (1, 1, 1.0)", "UPDATE b SET v = 3 WHERE id = 2", "DELETE FROM a WHERE id = 2");
    }

    private void exercise(String name) {
        // put back as it was within the refresh: nets to nothing
        twins.step(name, "UPDATE m SET v = v + 10 WHERE id % 5 = 0", "UPDATE m SET v = v - 10 WHERE id % 5 = 0",
                "UPDATE m SET note = 'changed' WHERE id % 3 = 0");
        // an extreme removed while a tie of it remains, and the only one removed: the group is rescanned
        twins.step(name, "DELETE FROM m WHERE id = 7", "DELETE FROM m WHERE id IN (SELECT id FROM m WHERE k = 1 ORDER BY v DESC LIMIT 1)");
        // one refresh removes an extreme and inserts a new one; a value moves between groups
        twins.step(name, "UPDATE m SET v = 100, d = date '2030-01-01', t = 'zz' WHERE id = 2",
                "UPDATE m SET v = -5 WHERE id = 11", "UPDATE m SET k = 3, price = 1.50 WHERE id = 4",
                "UPDATE m SET price = 3.0 WHERE id = 8", "UPDATE m SET tag = 'RED' WHERE id = 10");
        // NULLs, a group emptied and another coming back
        twins.step(name, "UPDATE m SET v = NULL, d = NULL, t = NULL WHERE id % 4 = 2", "DELETE FROM m WHERE k = 0");
        twins.step(name, "INSERT INTO m VALUES (100, 0, 3, date '2025-05-05', 'aa', 1.50, 'Red', 'n'),"
                + " (101, 0, 3, date '2025-05-05', 'aa', 1.5, 'red', 'n')");
        twins.step(name, "DELETE FROM m");
    }

}
