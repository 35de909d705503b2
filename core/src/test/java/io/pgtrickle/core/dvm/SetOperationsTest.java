package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * UNION, INTERSECT [ALL] and EXCEPT [ALL], maintained by re-evaluating the set operation for the rows
 * a change touches: every scenario in DIFFERENTIAL and IMMEDIATE with a FULL twin, checked against
 * the query after every step (IMMEDIATE after every statement), through the shop's churn — rows
 * entering and leaving either side, duplicates on the keyless table (multiplicities of the ALL
 * forms), NULLs (which set operations treat as equal).
 */
class SetOperationsTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(SetOperationsTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT customer FROM orders UNION SELECT customer FROM notes",
            "SELECT customer FROM orders INTERSECT SELECT customer FROM notes",
            "SELECT customer FROM orders INTERSECT ALL SELECT customer FROM notes",
            "SELECT customer FROM notes EXCEPT SELECT customer FROM orders",
            "SELECT customer FROM notes EXCEPT ALL SELECT customer FROM orders",
            "SELECT customer, note FROM notes INTERSECT ALL SELECT customer, note FROM notes WHERE note <> 'y'",
            "SELECT id, region FROM customers UNION SELECT customer, note FROM notes",
            "SELECT customer FROM orders UNION SELECT customer FROM notes INTERSECT SELECT id FROM customers",
            "SELECT region FROM customers UNION ALL SELECT note FROM notes EXCEPT SELECT name FROM customers",
            "SELECT customer, count(*) AS n FROM orders GROUP BY customer EXCEPT SELECT customer, count(*) FROM notes GROUP BY customer",
            "SELECT c.id FROM customers c JOIN orders o ON o.customer = c.id UNION "
                    + "SELECT n.customer FROM notes n WHERE EXISTS (SELECT 1 FROM customers c2 WHERE c2.id = n.customer)",
            "SELECT DISTINCT customer FROM notes INTERSECT SELECT c.id FROM customers c LEFT JOIN orders o ON o.customer = c.id",
            "SELECT customer FROM orders EXCEPT (SELECT customer FROM notes EXCEPT ALL SELECT id FROM customers WHERE region = 'us')"})
    void setOperations(String query) {
        twins.define("so", query);
        ShopFixture.churn(twins, "so");
        assertThat(db.api.explain("so", ExplainFormat.TEXT)).contains("row recompute (the operation re-evaluated for the changed rows only)");
    }
}
