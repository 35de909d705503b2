package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * LATERAL subqueries in FROM, in DIFFERENTIAL and IMMEDIATE with a FULL twin through the shop's
 * churn: top-N per row, aggregates per row under LEFT JOIN LATERAL, a lateral subquery over two
 * tables, one under an aggregate, one that names no item before it.
 */
class LateralSubqueriesTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(LateralSubqueriesTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id, c.name, o.oid, o.amount FROM customers c CROSS JOIN LATERAL"
                    + " (SELECT x.id AS oid, x.amount FROM orders x WHERE x.customer = c.id ORDER BY x.amount DESC NULLS LAST, x.id LIMIT 2) o",
            "SELECT c.id, s.n, s.total FROM customers c LEFT JOIN LATERAL"
                    + " (SELECT count(*) AS n, sum(x.amount) AS total FROM orders x WHERE x.customer = c.id) s ON true",
            "SELECT c.id, s.note FROM customers c LEFT JOIN LATERAL"
                    + " (SELECT n.note FROM notes n JOIN orders x ON x.customer = n.customer WHERE n.customer = c.id) s ON true",
            "SELECT c.region, sum(s.n) AS n, count(*) AS customers FROM customers c, LATERAL"
                    + " (SELECT count(*) AS n FROM orders x WHERE x.customer = c.id AND x.amount > 2) s GROUP BY c.region",
            "SELECT o.id, m.top FROM orders o, LATERAL (SELECT max(x.amount) AS top FROM orders x) m",
            "SELECT DISTINCT c.region, s.note FROM customers c JOIN LATERAL (SELECT n.note FROM notes n WHERE n.customer = c.id"
                    + " UNION ALL SELECT 'order ' || x.id FROM orders x WHERE x.customer = c.id) s ON true"})
    void lateralSubqueries(String query) {
        twins.define("lat", query);
        assertThat(db.api.explain("lat", ExplainFormat.TEXT)).contains("LateralSubquery");
        ShopFixture.churn(twins, "lat");
    }
}
