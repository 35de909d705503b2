package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The changes of a source are netted per row content before the query sees them: grouped by value
 * when equal values of every column print the same, by their text otherwise (docs/DIFFERENTIAL.md,
 * "Netting the changes").
 */
class ChangeNettingTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(ChangeNettingTest.class);
    }

    @Test
    void changesOfValueEqualColumnsAreGroupedByValueAndCancelExactly() {
        db.exec("CREATE DOMAIN label AS text CHECK (VALUE <> '')",
                "CREATE TABLE t (id int PRIMARY KEY, name label NOT NULL, d date, ok boolean NOT NULL, u uuid, b bytea, at timestamptz)",
                "INSERT INTO t SELECT g, 'n' || g, DATE '2026-01-01' + g, g % 3 <> 0, NULL, '\\x00'::bytea, NULL"
                        + " FROM generate_series(1, 60) g");
        db.api.create(CreateOptions.of("kept", "SELECT id, name, d, u, b, at FROM t WHERE ok").withRefreshMode(RefreshMode.DIFFERENTIAL));
        // keyed: the previous state is read by key, so the content's text is not made at all
        assertThat(diffSql("kept")).contains("GROUP BY w.").doesNotContain("DISTINCT ON (b.__pgt_c)").doesNotContain("AS __pgt_c,");

        db.exec("INSERT INTO t VALUES (100, 'x', NULL, true, NULL, NULL, NULL)", "DELETE FROM t WHERE id = 100", // cancels
                "UPDATE t SET name = 'tmp' WHERE id = 1", "UPDATE t SET name = 'n1' WHERE id = 1", // back to where it was
                "UPDATE t SET name = 'N2' WHERE id = 2", // a case change is a change
                "UPDATE t SET d = NULL, u = '00000000-0000-0000-0000-000000000001' WHERE id = 4",
                "UPDATE t SET b = '\\x0000'::bytea, at = '2026-12-03 10:00+00' WHERE id = 5",
                "UPDATE t SET ok = NOT ok WHERE id BETWEEN 6 AND 12",
                "INSERT INTO t VALUES (101, 'dup', NULL, true, NULL, NULL, NULL), (102, 'dup', NULL, true, NULL, NULL, NULL)");
        assertThat(db.api.refresh("kept").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("kept");
    }

    @Test
    void aKeylessTableKeepsTheTextItsPreviousStateIsLookedUpBy() {
        db.exec("CREATE TABLE bag (k int NOT NULL, v int)", "INSERT INTO bag SELECT g % 5, g FROM generate_series(1, 30) g",
                "CREATE TABLE tags (k int PRIMARY KEY, tag text)", "INSERT INTO tags SELECT g, 't' || g FROM generate_series(0, 4) g");
        db.api.create(CreateOptions.of("bagged", "SELECT t.tag, b.v FROM tags t LEFT JOIN bag b ON b.k = t.k AND b.v > 10")
                .withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(diffSql("bagged")).contains("GROUP BY w.").contains("AS __pgt_c,").contains("c.__pgt_c");
        db.exec("INSERT INTO bag VALUES (1, 50), (1, 50)", "DELETE FROM bag WHERE v = 12", "UPDATE bag SET v = 5 WHERE v = 13",
                "UPDATE tags SET tag = 'x' WHERE k = 2");
        assertThat(db.api.refresh("bagged").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("bagged");
    }

    @Test
    void changesOfColumnsWhoseEqualValuesPrintDifferentlyAreNettedByText() {
        db.exec("CREATE TABLE m (id int PRIMARY KEY, x numeric, f float8)",
                "INSERT INTO m SELECT g, g, g FROM generate_series(1, 20) g");
        db.api.create(CreateOptions.of("amounts", "SELECT id, x, f FROM m").withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(diffSql("amounts")).contains("DISTINCT ON (b.__pgt_c)").doesNotContain("GROUP BY w.");

        // equal under =, different text: grouping by value would net them away
        db.exec("UPDATE m SET x = 1.00 WHERE id = 1", "UPDATE m SET f = '-0' WHERE id = 2", "UPDATE m SET f = 0 WHERE id = 3");
        db.exec("UPDATE m SET f = '-0'::float8 WHERE id = 3");
        assertThat(db.api.refresh("amounts").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("amounts");
        assertThat(db.queryString("SELECT x::text || ' ' || f::text FROM amounts WHERE id = 1")).isEqualTo("1.00 1");
        assertThat(db.queryString("SELECT f::text FROM amounts WHERE id = 3")).isEqualTo("-0");
    }

    @Test
    void scaledNumericFixedCharTimeAndMoneyAreGroupedByValueJsonbByText() {
        db.exec("CREATE DOMAIN amount AS numeric(10,2)",
                "CREATE TABLE p (id int PRIMARY KEY, price amount, code character(3), at time, fee money)",
                "INSERT INTO p SELECT g, g, 'c' || g % 10, TIME '10:00' + g * INTERVAL '1 minute', g FROM generate_series(1, 20) g",
                "CREATE TABLE doc (id int PRIMARY KEY, body jsonb)",
                "INSERT INTO doc SELECT g, jsonb_build_object('n', g) FROM generate_series(1, 20) g");
        db.api.create(CreateOptions.of("priced", "SELECT id, price, code, at, fee FROM p").withRefreshMode(RefreshMode.DIFFERENTIAL));
        db.api.create(CreateOptions.of("docs", "SELECT id, body FROM doc").withRefreshMode(RefreshMode.DIFFERENTIAL));
        assertThat(diffSql("priced")).contains("GROUP BY w.").doesNotContain("DISTINCT ON (b.__pgt_c)");
        // jsonb: '1.0' = '1.00', printed as written
        assertThat(diffSql("docs")).contains("DISTINCT ON (b.__pgt_c)").doesNotContain("GROUP BY w.");

        db.exec("UPDATE p SET price = 1.5 WHERE id = 1", "UPDATE p SET price = 1.50 WHERE id = 1", // one value, one text
                "UPDATE p SET code = 'x' WHERE id = 2", "UPDATE p SET code = 'x  ' WHERE id = 2",
                "UPDATE p SET at = '11:00', fee = 2.5 WHERE id = 3",
                "UPDATE doc SET body = '{\"n\": 1.0}' WHERE id = 1", "UPDATE doc SET body = '{\"n\": 1.00}' WHERE id = 1");
        assertThat(db.api.refresh("priced").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.api.refresh("docs").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("priced");
        db.assertOracle("docs");
        assertThat(db.queryString("SELECT price::text FROM priced WHERE id = 1")).isEqualTo("1.50");
        assertThat(db.queryString("SELECT body::text FROM docs WHERE id = 1")).isEqualTo("{\"n\": 1.00}");
        // found by this test: a jsonb column entered the row's identity by value, so 1 and 1.00 were one row
        db.exec("UPDATE doc SET body = '{\"n\": 2}' WHERE id = 2");
        db.api.refresh("docs");
        db.exec("UPDATE doc SET body = '{\"n\": 2.0}' WHERE id = 2");
        assertThat(db.api.refresh("docs").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.queryString("SELECT body::text FROM docs WHERE id = 2")).isEqualTo("{\"n\": 2.0}");
    }

    private String diffSql(String streamTable) {
        return db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '" + streamTable + "'");
    }
}
