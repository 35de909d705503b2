package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Window functions, DISTINCT ON, INTERSECT/EXCEPT/UNION, ORDER BY ... LIMIT and grouping sets
 * below the top of the query (a subquery in FROM, a branch of UNION ALL, under a join or an
 * aggregate), in DIFFERENTIAL and IMMEDIATE with a FULL twin through the shop's churn: NULL
 * partition keys, ties, rows moving between partitions, partitions emptied.
 */
class RecomputedSubqueriesTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(RecomputedSubqueriesTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
    }

    /** Maintained for the affected partitions only: explain names the key columns. */
    @ParameterizedTest
    @ValueSource(strings = {
            // top-N per group, the classic
            "SELECT r.customer, r.id, r.amount FROM (SELECT o.customer, o.id, o.amount,"
                    + " row_number() OVER (PARTITION BY o.customer ORDER BY o.amount DESC NULLS LAST, o.id) AS rn FROM orders o) r"
                    + " WHERE r.rn <= 2",
            // ties: rank, and several windows sharing the partition
            "SELECT r.* FROM (SELECT o.customer, o.amount, rank() OVER (PARTITION BY o.customer ORDER BY o.amount) AS rk,"
                    + " sum(o.amount) OVER (PARTITION BY o.customer) AS total,"
                    + " count(*) OVER (PARTITION BY o.customer, o.amount % 2) AS parity FROM orders o) r WHERE r.rk = 1",
            // joined with a table, the window over a join
            "SELECT c.name, w.id, w.prev FROM customers c JOIN (SELECT o.customer, o.id, lag(o.id) OVER (PARTITION BY o.customer"
                    + " ORDER BY o.id, x.id) AS prev FROM orders o JOIN customers x ON x.id = o.customer) w ON w.customer = c.id",
            // a window function that tells peers apart, over a unique order
            "SELECT r.customer, r.id FROM (SELECT o.customer, o.id, first_value(o.id) OVER (PARTITION BY o.customer ORDER BY o.amount, o.id"
                    + " ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS f FROM orders o) r WHERE r.f = r.id",
            // aggregated above
            "SELECT d.customer, count(*) AS n, max(d.running) AS top FROM (SELECT o.customer, sum(o.amount) OVER (PARTITION BY"
                    + " o.customer ORDER BY o.id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS running FROM orders o) d"
                    + " GROUP BY d.customer",
            // DISTINCT ON in a subquery
            "SELECT f.customer, f.id, c.name FROM (SELECT DISTINCT ON (o.customer) o.customer, o.id FROM orders o"
                    + " ORDER BY o.customer, o.amount DESC, o.id) f LEFT JOIN customers c ON c.id = f.customer",
            // a keyless table with duplicates, a named window
            "SELECT n.customer, n.note, n.k FROM (SELECT x.customer, x.note, row_number() OVER w AS k FROM notes x"
                    + " WINDOW w AS (PARTITION BY x.customer ORDER BY x.note)) n"})
    void partitionsRecomputed(String query) {
        maintained(query, "recomputed for the partitions");
    }

    /** Recomputed whole, before and after, when one of their tables changed. */
    @ParameterizedTest
    @ValueSource(strings = {
            // a window without PARTITION BY
            "SELECT r.id, r.pos FROM (SELECT o.id, row_number() OVER (ORDER BY o.amount, o.id) AS pos FROM orders o) r WHERE r.pos <= 3",
            // top-K in a subquery, joined
            "SELECT c.name, t.amount FROM (SELECT o.customer, o.amount FROM orders o ORDER BY o.amount DESC NULLS LAST, o.id LIMIT 3) t"
                    + " JOIN customers c ON c.id = t.customer",
            // set operations in a subquery
            "SELECT s.customer, count(*) AS n FROM (SELECT o.customer FROM orders o INTERSECT SELECT c.id FROM customers c) s"
                    + " GROUP BY s.customer",
            "SELECT e.customer FROM (SELECT n.customer FROM notes n EXCEPT ALL SELECT o.customer FROM orders o) e",
            "SELECT u.k, u.src FROM (SELECT o.customer AS k, 'o' AS src FROM orders o UNION SELECT n.customer, 'n' FROM notes n) u",
            // grouping sets in a subquery
            "SELECT g.region, g.n FROM (SELECT c.region, count(*) AS n FROM customers c GROUP BY ROLLUP (c.region)) g WHERE g.n > 0",
            // a window without PARTITION BY over a keyless table, ordered by every column used: ties only between equal rows
            "SELECT n.note, n.k FROM (SELECT x.note, row_number() OVER (ORDER BY x.note) AS k FROM notes x) n"})
    void recomputedWhole(String query) {
        maintained(query, "recomputed whole");
    }

    private void maintained(String query, String strategy) {
        twins.define("sub", query);
        assertThat(db.api.explain("sub", ExplainFormat.TEXT)).contains("RecomputedSubquery").contains(strategy);
        ShopFixture.churn(twins, "sub");
    }

    /**
     * Its previous rows are recomputed to be subtracted, so a subquery whose rows depend on the order
     * rows are read in (ties in the ORDER BY of row_number, LIMIT or DISTINCT ON; merged values that
     * print differently; order-dependent aggregates) falls back to FULL under AUTO, with the reason.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT r.customer, r.id FROM (SELECT o.customer, o.id, row_number() OVER (PARTITION BY o.customer ORDER BY o.amount) AS rn"
                    + " FROM orders o) r WHERE r.rn = 1",
            "SELECT t.id FROM (SELECT o.id FROM orders o ORDER BY o.amount LIMIT 2) t",
            "SELECT f.customer, f.id FROM (SELECT DISTINCT ON (o.customer) o.customer, o.id FROM orders o ORDER BY o.customer, o.amount) f",
            "SELECT n.note, n.k FROM (SELECT x.note, row_number() OVER (ORDER BY x.customer) AS k FROM notes x) n",
            "SELECT u.x FROM (SELECT o.amount::numeric / 2 AS x FROM orders o UNION SELECT 1.0) u",
            "SELECT g.region, g.names FROM (SELECT c.region, string_agg(c.name, ',') AS names FROM customers c GROUP BY ROLLUP (c.region)) g",
            "SELECT g.customer, g.rk FROM (SELECT o.customer, rank() OVER (ORDER BY sum(o.amount)) AS rk FROM orders o GROUP BY o.customer) g",
            // now() is another value at the next refresh: the rows recomputed for then would not be the rows emitted then
            "SELECT r.customer, r.rk FROM (SELECT o.customer, rank() OVER (PARTITION BY o.customer ORDER BY o.amount) AS rk FROM orders o"
                    + " WHERE now() > '2000-01-01') r"})
    void orderDependentSubqueriesFallBackToFull(String query) {
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("dep", query));
        assertThat(db.api.explain("dep", ExplainFormat.TEXT)).contains("FULL").containsPattern("depend on the order rows are read in|may print equal values differently|stable functions");
        db.exec("INSERT INTO orders VALUES (40, 1, 5), (41, 2, 5)", "INSERT INTO customers VALUES (7, 'g', 'eu')", "INSERT INTO notes VALUES (7, 'x')");
        db.api.refresh("dep");
        db.assertOracle("dep");
    }

    /** A branch of UNION ALL with a window, and a window subquery inside a subquery. */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT o.id, row_number() OVER (PARTITION BY o.customer ORDER BY o.id) AS k FROM orders o"
                    + " UNION ALL SELECT c.id, 0 FROM customers c",
            "SELECT z.customer, z.id FROM (SELECT y.customer, y.id FROM (SELECT o.customer, o.id, dense_rank() OVER"
                    + " (PARTITION BY o.customer ORDER BY o.amount) AS d FROM orders o) y WHERE y.d = 1) z"})
    void nested(String query) {
        twins.define("sub", query);
        ShopFixture.churn(twins, "sub");
    }

    /** The affected partitions are found by the key column, also for a NULL key, and only they are read. */
    @Test
    void onlyAffectedPartitionsAreRead() {
        db.exec("CREATE TABLE big (id int PRIMARY KEY, k int, v int)", "CREATE INDEX ON big (k)",
                "INSERT INTO big SELECT g, g % 500, g FROM generate_series(1, 20000) g",
                "INSERT INTO big VALUES (-1, NULL, 1), (-2, NULL, 2)", "ANALYZE big");
        twins.define("topn", "SELECT t.k, t.id FROM (SELECT b.k, b.id, row_number() OVER (PARTITION BY b.k ORDER BY b.v DESC, b.id)"
                + " AS rn FROM big b) t WHERE t.rn <= 2");
        twins.step("topn", "UPDATE big SET v = v + 100000 WHERE id = 7", "DELETE FROM big WHERE id = -1");
        twins.step("topn", "INSERT INTO big VALUES (-3, NULL, 9)", "UPDATE big SET k = 3 WHERE id = 8");
        // the refresh restricts the subquery to the partitions of the changed rows, by a condition
        // PostgreSQL pushes down to the index on k (NULL keys by a second branch)
        String apply = db.queryStrings("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'topn'").get(0);
        assertThat(apply).contains("__pgt_s.\"k\" = ANY (ARRAY(SELECT __pgt_k0 FROM").contains("__pgt_s.\"k\" IS NULL AND EXISTS");
        // 2 + 1 partitions changed: a handful of rows written, not the table's
        long written = db.queryLong("SELECT sum(h.rows_inserted + h.rows_deleted) FROM pgtrickle.pgt_refresh_history h"
                + " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'topn' AND h.action = 'DIFFERENTIAL'");
        assertThat(written).isBetween(1L, 20L);
    }
}
