package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Inner joins, maintained as ΔA⋈B¹ + A⁰⋈ΔB: the regression scenarios that broke the original. */
class DifferentialJoinTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(DifferentialJoinTest.class);
        twins = new Twins(db);
        db.exec("CREATE TABLE orders (id int PRIMARY KEY, customer int, amount int)",
                "CREATE TABLE customers (id int PRIMARY KEY, name text, region text)",
                "CREATE TABLE tags (customer int, tag text)",   // keyless, duplicates allowed
                "INSERT INTO customers VALUES (1, 'ada', 'eu'), (2, 'bob', 'us'), (3, 'cy', 'eu')",
                "INSERT INTO orders VALUES (10, 1, 5), (11, 1, 7), (12, 2, 3), (13, 9, 1)",
                "INSERT INTO tags VALUES (1, 'vip'), (1, 'vip'), (2, 'new')");
    }




    private static final String ORDER_LINES =
            "SELECT o.id, c.name, o.amount FROM orders o JOIN customers c ON c.id = o.customer";

    @Test
    void changesOnBothSidesInOneCycle() {
        twins.define("ol", ORDER_LINES);
        twins.step("ol", "INSERT INTO orders VALUES (14, 3, 2)", "UPDATE customers SET name = 'cyd' WHERE id = 3",
                "INSERT INTO customers VALUES (9, 'nine', 'us')");
    }

    @Test
    void bothPartnersDeletedInOneCycle() {
        twins.define("ol", ORDER_LINES);
        twins.step("ol", "DELETE FROM orders WHERE id = 12", "DELETE FROM customers WHERE id = 2");
    }

    @Test
    void aJoinKeyUpdateOnOneSideWithADeleteOnTheOther() {
        twins.define("ol", ORDER_LINES);
        twins.step("ol", "UPDATE orders SET customer = 3 WHERE id = 10", "DELETE FROM customers WHERE id = 1");
    }

    @Test
    void aRowInsertedAndDeletedWhileItsPartnerIsDeleted() {
        twins.define("ol", ORDER_LINES);
        twins.step("ol", "INSERT INTO orders VALUES (20, 2, 4)", "DELETE FROM orders WHERE id = 20", "DELETE FROM customers WHERE id = 2");
    }

    @Test
    void duplicatesOnAKeylessSide() {
        twins.define("tagged", "SELECT c.name, t.tag FROM customers c JOIN tags t ON t.customer = c.id");
        twins.step("tagged", "INSERT INTO tags VALUES (1, 'vip')");
        assertThat(db.queryLong("SELECT count(*) FROM tagged WHERE tag = 'vip'")).isEqualTo(3);
        twins.step("tagged", "DELETE FROM tags WHERE ctid = (SELECT min(ctid) FROM tags WHERE tag = 'vip')",
                "UPDATE customers SET name = 'adah' WHERE id = 1");
        twins.step("tagged", "DELETE FROM customers WHERE id = 1", "INSERT INTO tags VALUES (3, 'x'), (3, 'x')");
    }

    @Test
    void theSameSourceTwiceSelfJoin() {
        twins.define("pairs", "SELECT a.id AS a_id, b.id AS b_id FROM customers a JOIN customers b ON a.region = b.region AND a.id < b.id");
        twins.step("pairs", "INSERT INTO customers VALUES (4, 'dee', 'eu')", "UPDATE customers SET region = 'eu' WHERE id = 2");
        twins.step("pairs", "DELETE FROM customers WHERE id = 1", "UPDATE customers SET region = 'us' WHERE id = 3");
    }

    @Test
    void chainsCrossAndNonEquiJoins() {
        twins.define("chain", "SELECT o.id, c.name, t.tag FROM orders o JOIN customers c ON c.id = o.customer JOIN tags t ON t.customer = c.id");
        twins.step("chain", "INSERT INTO tags VALUES (2, 'late')", "DELETE FROM orders WHERE id = 11", "UPDATE customers SET id = 5 WHERE id = 3");
        twins.define("crossed", "SELECT c.name, o.id FROM customers c CROSS JOIN orders o WHERE o.amount > 4");
        twins.step("crossed", "INSERT INTO orders VALUES (30, 1, 9)", "DELETE FROM customers WHERE id = 2");
        twins.define("ineq", "SELECT o.id, c.id AS cid FROM orders o, customers c WHERE o.amount > c.id * 2");
        twins.step("ineq", "UPDATE orders SET amount = amount + 3", "INSERT INTO customers VALUES (6, 'f', 'us')");
    }

    /**
     * Four tables, every one changed in the same window, with keys moved between partners: the
     * delta reads the tables themselves and subtracts the joins of their changes (T⁰ = T¹ − ΔT,
     * 15 terms), so every combination of changes must cancel exactly. Five tables keep the
     * previous state (31 terms would be too many).
     */
    @Test
    void everyTableOfAFourAndAFiveWayJoinChangedInOneWindow() {
        db.exec("CREATE TABLE regions (region text PRIMARY KEY, zone text)",
                "INSERT INTO regions VALUES ('eu', 'east'), ('us', 'west')",
                "CREATE TABLE zones (zone text PRIMARY KEY, label text)",
                "INSERT INTO zones VALUES ('east', 'E'), ('west', 'W')");
        Twins all = twins.withImmediate();
        all.define("four", "SELECT o.id, c.name, t.tag, r.zone, o.amount FROM orders o JOIN customers c ON c.id = o.customer"
                + " JOIN tags t ON t.customer = c.id JOIN regions r ON r.region = c.region");
        all.define("five", "SELECT o.id, c.name, t.tag, z.label FROM orders o, customers c, tags t, regions r, zones z"
                + " WHERE c.id = o.customer AND t.customer = c.id AND r.region = c.region AND z.zone = r.zone");
        all.define("four_sum", "SELECT r.zone, count(*) AS n, sum(o.amount) AS total FROM orders o"
                + " JOIN customers c ON c.id = o.customer JOIN tags t ON t.customer = c.id JOIN regions r ON r.region = c.region"
                + " GROUP BY r.zone");
        String[] window = {
            "INSERT INTO orders VALUES (14, 2, 6), (15, 3, 2)", "UPDATE orders SET customer = 2 WHERE id = 10",
            "UPDATE customers SET region = 'us' WHERE id = 1", "INSERT INTO customers VALUES (4, 'dee', 'eu')",
            "INSERT INTO tags VALUES (2, 'late'), (4, 'new')", "DELETE FROM tags WHERE ctid = (SELECT min(ctid) FROM tags WHERE tag = 'vip')",
            "UPDATE regions SET zone = 'west' WHERE region = 'eu'", "INSERT INTO regions VALUES ('ap', 'east')",
            "UPDATE zones SET label = 'w' WHERE zone = 'west'",
        };
        all.step("four", window);
        all.step("five");
        all.step("four_sum");
        // a row and its partners deleted together, and a row inserted with partners inserted alike
        String[] second = {
            "DELETE FROM orders WHERE customer = 2", "DELETE FROM tags WHERE customer = 2", "DELETE FROM customers WHERE id = 2",
            "INSERT INTO customers VALUES (5, 'eve', 'ap')", "INSERT INTO orders VALUES (16, 5, 1)", "INSERT INTO tags VALUES (5, 'x')",
            "UPDATE regions SET zone = 'east' WHERE region = 'eu'",
        };
        all.step("four", second);
        all.step("five");
        all.step("four_sum");
        // the four-way join reads the tables' current state (the split); the five-way one their previous state
        assertThat(db.diffApplySql("four")).doesNotContain("UNION ALL SELECT b.");
        assertThat(db.diffApplySql("five")).contains("UNION ALL SELECT b.");
    }

    /**
     * The split of small joins beside what it does not split: a derived table among the tables
     * (kept in its previous state, 8 terms), three copies of one table (keyed, and keyless with
     * duplicates), an outer join and an EXISTS (units), a LATERAL function over a split table,
     * tables of which no column is read, and a filtered sum with a row inserted and deleted in the
     * same window. Every table changes in each window.
     */
    @Test
    void splitJoinsBesideDerivedTablesSelfJoinsUnitsAndLateralFunctions() {
        db.exec("CREATE TABLE regions (region text PRIMARY KEY, zone text)",
                "INSERT INTO regions VALUES ('eu', 'east'), ('us', 'west')",
                "CREATE TABLE nodes (id int PRIMARY KEY, parent int, label text)",
                "INSERT INTO nodes VALUES (1, NULL, 'r'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'c'), (5, 3, 'd')",
                "CREATE TABLE links (src int, dst int)",
                "INSERT INTO links VALUES (1, 2), (2, 3), (2, 3), (3, 1), (3, 4)");
        Twins all = twins.withImmediate();
        Map<String, String> queries = new java.util.LinkedHashMap<>();
        queries.put("derived", "SELECT d.customer, d.s, c.name, t.tag, r.zone FROM (SELECT customer, sum(amount) AS s FROM orders"
                + " GROUP BY customer) d JOIN customers c ON c.id = d.customer JOIN tags t ON t.customer = c.id"
                + " JOIN regions r ON r.region = c.region");
        queries.put("tree", "SELECT a.id, b.id AS b_id, c.id AS c_id, c.label FROM nodes a JOIN nodes b ON b.parent = a.id"
                + " JOIN nodes c ON c.parent = b.id");
        queries.put("paths", "SELECT x.src, y.dst AS mid, z.dst FROM links x JOIN links y ON y.src = x.dst JOIN links z ON z.src = y.dst");
        queries.put("padded", "SELECT o.id, c.name, t.tag, r.zone FROM orders o JOIN customers c ON c.id = o.customer"
                + " JOIN tags t ON t.customer = c.id LEFT JOIN regions r ON r.region = c.region");
        queries.put("expanded", "SELECT o.id, c.name, g, t.tag FROM orders o JOIN customers c ON c.id = o.customer"
                + " CROSS JOIN LATERAL generate_series(1, o.amount) AS g JOIN tags t ON t.customer = c.id");
        queries.put("east", "SELECT o.id, c.name, t.tag FROM orders o JOIN customers c ON c.id = o.customer JOIN tags t ON t.customer = c.id"
                + " WHERE EXISTS (SELECT 1 FROM regions r WHERE r.region = c.region AND r.zone = 'east')");
        queries.put("counted", "SELECT count(*) AS n FROM orders, customers, tags");
        queries.put("filtered", "SELECT c.region, sum(o.amount) AS total, count(*) AS n FROM orders o JOIN customers c ON c.id = o.customer"
                + " JOIN tags t ON t.customer = c.id WHERE o.amount > 2 GROUP BY c.region");
        queries.forEach(all::define);
        String[][] windows = {
            {"INSERT INTO orders VALUES (14, 2, 6), (15, 3, 2)", "UPDATE orders SET customer = 2, amount = 4 WHERE id = 10",
             "INSERT INTO orders VALUES (16, 1, 9)", "DELETE FROM orders WHERE id = 16",
             "UPDATE customers SET region = 'us' WHERE id = 1", "INSERT INTO customers VALUES (4, 'dee', 'eu')",
             "INSERT INTO tags VALUES (2, 'late'), (4, 'new'), (3, 'x')",
             "DELETE FROM tags WHERE ctid = (SELECT min(ctid) FROM tags WHERE tag = 'vip')",
             "UPDATE regions SET zone = 'east' WHERE region = 'us'", "INSERT INTO regions VALUES ('ap', 'south')",
             "UPDATE nodes SET parent = 3 WHERE id = 4", "INSERT INTO nodes VALUES (6, 4, 'e')",
             "INSERT INTO links VALUES (1, 2), (4, 2)", "DELETE FROM links WHERE ctid = (SELECT min(ctid) FROM links WHERE src = 2)"},
            {"DELETE FROM orders WHERE customer = 2", "DELETE FROM tags WHERE customer = 2", "DELETE FROM customers WHERE id = 2",
             "UPDATE customers SET region = 'ap' WHERE id = 3", "UPDATE regions SET zone = 'east' WHERE region = 'ap'",
             "DELETE FROM nodes WHERE id = 2", "UPDATE nodes SET parent = 5 WHERE id = 6",
             "UPDATE links SET dst = 4 WHERE src = 1", "INSERT INTO links VALUES (4, 3), (4, 3)"},
        };
        for (String[] window : windows) {
            String first = queries.keySet().iterator().next();
            all.step(first, window);
            queries.keySet().stream().skip(1).forEach(all::step);
        }
    }

    @Test
    void joinsUnderAggregatesAndOverSubqueriesAndViews() {
        twins.define("by_region", "SELECT c.region, count(*) AS n, sum(o.amount) AS total, max(o.amount) AS top"
                + " FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.region");
        twins.step("by_region", "DELETE FROM orders WHERE id = 11", "UPDATE customers SET region = 'us' WHERE id = 1");
        twins.define("tag_lists", "SELECT c.region, string_agg(t.tag, ',' ORDER BY t.tag) AS tags"
                + " FROM customers c JOIN tags t ON t.customer = c.id GROUP BY c.region");
        twins.step("tag_lists", "INSERT INTO tags VALUES (3, 'z')", "DELETE FROM tags WHERE customer = 2");
        db.exec("CREATE VIEW big_orders AS SELECT id, customer FROM orders WHERE amount > 2");
        twins.define("via", "SELECT c.name, b.id FROM (SELECT id, name FROM customers WHERE region = 'eu') c JOIN big_orders b ON b.customer = c.id");
        twins.step("via", "UPDATE orders SET amount = 1 WHERE id = 10", "INSERT INTO orders VALUES (40, 3, 8)");
        assertThat(db.api.explain("via", ExplainFormat.TEXT)).contains("InnerJoin c ⋈ b ON", "[incremental: ΔA⋈B¹ + A⁰⋈ΔB");
    }
}
