package io.pgtrickle.core.dvm;

import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;

/**
 * Three small tables for operator scenarios — customers (keyed), orders (keyed, NULL and dangling
 * customers) and notes (keyless, duplicates) — and one sequence of changes that makes partners and
 * groups come and go on every side.
 */
final class ShopFixture {
    private ShopFixture() {
    }

    static void create(Db db) {
        db.exec("CREATE TABLE customers (id int PRIMARY KEY, name text, region text)",
                "CREATE TABLE orders (id int PRIMARY KEY, customer int, amount int)",
                "CREATE TABLE notes (customer int, note text)", // keyless, duplicates allowed
                "INSERT INTO customers VALUES (1, 'ada', 'eu'), (2, 'bob', 'us'), (3, 'cy', 'eu'), (4, 'di', NULL)",
                "INSERT INTO orders VALUES (10, 1, 5), (11, 1, 7), (12, 2, 3), (13, 9, 1), (14, NULL, 2)",
                "INSERT INTO notes VALUES (1, 'x'), (1, 'x'), (2, 'y'), (NULL, 'z')");
    }

    /** The changes, a step (a refresh and the checks) at a time; {@code extra} is one more step before the last two. */
    static void churn(Twins twins, String name, String... extra) {
        twins.step(name, "INSERT INTO orders VALUES (15, 3, 9)", "DELETE FROM orders WHERE id = 12");
        twins.step(name, "DELETE FROM customers WHERE id = 1", "INSERT INTO customers VALUES (9, 'nine', 'us')");
        twins.step(name, "UPDATE orders SET customer = 4 WHERE id = 10", "UPDATE customers SET id = 5 WHERE id = 3");
        twins.step(name, "INSERT INTO orders VALUES (16, 2, 1)", "DELETE FROM orders WHERE id = 16", "DELETE FROM customers WHERE id = 2");
        twins.step(name, "UPDATE orders SET customer = NULL WHERE id = 11", "INSERT INTO notes VALUES (5, 'q'), (5, 'q')",
                "DELETE FROM notes WHERE customer = 1");
        twins.step(name, "UPDATE customers SET name = 'zed', region = NULL", "UPDATE orders SET amount = amount + 1");
        if (extra.length > 0) {
            twins.step(name, extra);
        }
        twins.step(name, "DELETE FROM orders", "INSERT INTO orders VALUES (20, 9, 1), (21, 4, NULL)");
        twins.step(name, "DELETE FROM notes", "INSERT INTO customers VALUES (1, 'ada', 'eu')");
    }
}
