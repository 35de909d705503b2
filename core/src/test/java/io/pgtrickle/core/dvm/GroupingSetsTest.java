package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * GROUPING SETS, ROLLUP and CUBE, maintained as the UNION ALL of one GROUP BY per grouping set:
 * every scenario in DIFFERENTIAL and IMMEDIATE with a FULL twin through the shop's churn, NULL keys
 * told apart from rolled-up ones by GROUPING(), the grand total over an empty input included.
 */
class GroupingSetsTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(GroupingSetsTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.region, o.customer, sum(o.amount) AS total, count(*) AS n, GROUPING(c.region, o.customer) AS g "
                    + "FROM customers c JOIN orders o ON o.customer = c.id GROUP BY ROLLUP(c.region, o.customer)",
            "SELECT customer, amount > 3 AS big, count(*) AS n, max(amount) AS top FROM orders GROUP BY CUBE(customer, amount > 3)",
            "SELECT customer, note, count(*) AS n, GROUPING(note) AS g FROM notes GROUP BY GROUPING SETS ((customer, note), (customer), ())",
            "SELECT o.customer, c.region, count(*) AS n FROM orders o LEFT JOIN customers c ON c.id = o.customer "
                    + "GROUP BY o.customer, ROLLUP(c.region)",
            "SELECT region, count(*) AS n FROM customers GROUP BY ROLLUP(region) HAVING count(*) > 1",
            "SELECT upper(region) AS r, count(*) AS n, GROUPING(region) * 10 AS g FROM customers GROUP BY CUBE(region)",
            "SELECT customer, count(*) AS n FROM orders WHERE amount IS NOT NULL GROUP BY GROUPING SETS (customer, (), customer)",
            // found by review: a key's name in an alias, and a quoted key
            "SELECT coalesce(region, 'All') AS region, count(*) AS n FROM customers GROUP BY ROLLUP(region)",
            "SELECT \"Region\", count(*) AS n FROM (SELECT region AS \"Region\" FROM customers) c GROUP BY ROLLUP(\"Region\")",
            // found by RandomQueryTest: a signed constant in a key expression; max() of a numeric constant
            "SELECT customer AS g1, -1.0 < amount AS g2, count(*) AS n FROM orders GROUP BY ROLLUP(customer, -1.0 < amount)",
            "SELECT o.customer AS g1, max(2.25) AS m, (SELECT count(*) FROM customers c WHERE c.id = o.customer) AS x "
                    + "FROM orders o GROUP BY CUBE(o.customer)",
            // a grouping column qualified differently from its GROUP BY form is the same column
            "SELECT o.customer, O.Customer + 1 AS next, count(*) AS n FROM orders o GROUP BY ROLLUP(customer) HAVING o.customer IS NULL OR count(*) > 0",
            // PostgreSQL's canonical text: the key unqualified, the subquery's outer reference qualified;
            // a subquery's own column of the key's name is not the key
            "SELECT customer, (SELECT count(*) FROM customers c WHERE c.id = o.customer) AS x, count(*) AS n "
                    + "FROM orders o GROUP BY ROLLUP(customer)",
            "SELECT customer, (SELECT count(*) FROM orders o2 WHERE o2.customer = o.customer) AS same, count(*) AS n "
                    + "FROM orders o GROUP BY CUBE(customer)",
            // grouping expressions that contain one another
            "SELECT customer + 1 AS c1, customer, (customer + 1) * 2 AS c2, count(*) AS n FROM orders "
                    + "GROUP BY GROUPING SETS ((customer + 1, customer), (customer + 1), (customer), ())"})
    void groupingSets(String query) {
        twins.define("gs", query);
        ShopFixture.churn(twins, "gs");
        assertThat(db.api.explain("gs", ExplainFormat.TEXT)).contains("UnionAll");
    }

    /** Found by review: the rewrite dropped what acts on the whole result (LIMIT, DISTINCT): TopK, or FULL. */
    @Test
    void groupingSetsUnderLimitOrDistinctKeepThem() {
        twins.define("gtop", "SELECT region, count(*) AS n FROM customers GROUP BY ROLLUP(region) ORDER BY n DESC, region NULLS FIRST LIMIT 2");
        ShopFixture.churn(twins, "gtop");
        db.api.create(CreateOptions.of("gdist", "SELECT DISTINCT count(*) AS n FROM orders GROUP BY GROUPING SETS ((customer), (amount))"));
        db.exec("INSERT INTO orders VALUES (60, 1, 5), (61, 2, 5)");
        db.api.refresh("gdist");
        db.assertOracle("gdist");
    }

    @Test
    void groupingSetsBelowTheTopAreRecomputedWhenTheirTableChanged() {
        twins.define("gsub", "SELECT x.region, x.n FROM (SELECT region, count(*) AS n FROM customers GROUP BY ROLLUP(region)) x");
        assertThat(db.api.explain("gsub", ExplainFormat.TEXT)).contains("RecomputedSubquery with grouping sets");
        ShopFixture.churn(twins, "gsub");
    }
}
