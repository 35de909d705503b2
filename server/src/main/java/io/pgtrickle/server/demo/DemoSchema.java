package io.pgtrickle.server.demo;

import io.pgtrickle.core.api.CreateOptions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/** The demo's shop: customers, products and orders, and the stream tables defined over them. */
final class DemoSchema {
    static final int CUSTOMERS = 200;
    static final int PRODUCTS = 40;
    static final int ORDERS = 5_000;

    private DemoSchema() {
    }

    static void create(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement()) {
            st.execute("""
                    CREATE TABLE customers (
                        id      int PRIMARY KEY,
                        name    text NOT NULL,
                        region  text NOT NULL);
                    CREATE TABLE products (
                        id       int PRIMARY KEY,
                        name     text NOT NULL,
                        category text NOT NULL,
                        price    numeric(10,2) NOT NULL);
                    CREATE TABLE orders (
                        id          bigserial PRIMARY KEY,
                        customer_id int NOT NULL REFERENCES customers,
                        product_id  int NOT NULL REFERENCES products,
                        quantity    int NOT NULL,
                        status      text NOT NULL DEFAULT 'open',
                        created_at  timestamptz NOT NULL DEFAULT now());
                    """);
            st.execute("""
                    INSERT INTO customers
                    SELECT g, 'customer ' || g, (ARRAY['north', 'south', 'east', 'west', 'central'])[1 + g %% 5]
                      FROM generate_series(1, %d) g""".formatted(CUSTOMERS));
            st.execute("""
                    INSERT INTO products
                    SELECT g, 'product ' || g, (ARRAY['books', 'games', 'tools', 'garden'])[1 + g %% 4],
                           round((5 + (g * 37 %% 200))::numeric, 2)
                      FROM generate_series(1, %d) g""".formatted(PRODUCTS));
            st.execute("""
                    INSERT INTO orders (customer_id, product_id, quantity, status)
                    SELECT 1 + (g * 7919) %% %d, 1 + (g * 104729) %% %d, 1 + g %% 5,
                           CASE WHEN g %% 10 = 0 THEN 'shipped' ELSE 'open' END
                      FROM generate_series(1, %d) g""".formatted(CUSTOMERS, PRODUCTS, ORDERS));
        }
    }

    /** The stream tables, upstream first: the last one reads the first (a two-level DAG). */
    static List<CreateOptions> streamTables() {
        return List.of(
                CreateOptions.of("revenue_by_region", """
                        SELECT c.region, count(*) AS orders, sum(o.quantity * p.price) AS revenue
                          FROM orders o
                          JOIN customers c ON c.id = o.customer_id
                          JOIN products p ON p.id = o.product_id
                         GROUP BY c.region""").withSchedule("1s"),
                CreateOptions.of("category_sales", """
                        SELECT p.category, o.status, sum(o.quantity) AS units
                          FROM orders o JOIN products p ON p.id = o.product_id
                         GROUP BY p.category, o.status""").withSchedule("2s"),
                CreateOptions.of("top_customers", """
                        SELECT c.name, c.region, sum(o.quantity * p.price) AS spent
                          FROM orders o
                          JOIN customers c ON c.id = o.customer_id
                          JOIN products p ON p.id = o.product_id
                         GROUP BY c.name, c.region
                         ORDER BY spent DESC, c.name
                         LIMIT 10""").withSchedule("3s"),
                CreateOptions.of("region_ranking", """
                        SELECT region, revenue, rank() OVER (ORDER BY revenue DESC) AS position
                          FROM revenue_by_region"""));
    }
}
