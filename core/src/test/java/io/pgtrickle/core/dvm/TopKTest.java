package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * TopK ({@code ORDER BY ... LIMIT n [OFFSET m]}, FETCH FIRST): only the selected rows are stored, and
 * they stay exact as rows enter and leave the top — every scenario in DIFFERENTIAL and IMMEDIATE with
 * a FULL twin through the shop's churn. Every ORDER BY here decides between rows that differ
 * (or keeps all ties, WITH TIES): a LIMIT that cuts through ties has more than one right answer.
 */
class TopKTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(TopKTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT id, amount FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 3",
            "SELECT id, customer FROM orders ORDER BY id LIMIT 2 OFFSET 1",
            "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer ORDER BY 2 DESC NULLS LAST, customer NULLS FIRST LIMIT 2",
            "SELECT c.name, o.id FROM customers c JOIN orders o ON o.customer = c.id ORDER BY o.id DESC LIMIT 2",
            "SELECT id FROM customers ORDER BY name NULLS LAST, id FETCH FIRST 2 ROWS ONLY",
            "SELECT id, amount FROM orders ORDER BY amount NULLS LAST FETCH FIRST 2 ROWS WITH TIES",
            "SELECT customer FROM orders UNION SELECT customer FROM notes ORDER BY 1 NULLS FIRST LIMIT 2",
            "SELECT n.customer, n.note FROM notes n WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = n.customer) "
                    + "ORDER BY n.customer DESC, n.note LIMIT 3"})
    void topK(String query) {
        twins.define("top", query);
        ShopFixture.churn(twins, "top");
        assertThat(db.api.explain("top", ExplainFormat.TEXT)).contains("top-K recompute");
    }

    /** A change that leaves the top as it was writes nothing; one that moves a row in writes only it. */
    @Test
    void onlyRowsEnteringOrLeavingTheTopAreWritten() {
        twins.define("top3", "SELECT id, amount FROM orders ORDER BY amount DESC NULLS LAST, id LIMIT 3");
        assertThat(db.queryLong("SELECT count(*) FROM top3")).isEqualTo(3);
        RefreshResult r = twins.step("top3", "UPDATE orders SET amount = 0 WHERE id = 13");
        assertThat(r.rowsInserted() + r.rowsDeleted()).isZero();
        r = twins.step("top3", "INSERT INTO orders VALUES (50, 2, 100)");
        assertThat(r.rowsInserted()).isEqualTo(1);
        assertThat(r.rowsDeleted()).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM top3")).isEqualTo(3);
    }
}
