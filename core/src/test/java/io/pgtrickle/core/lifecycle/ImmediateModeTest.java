package io.pgtrickle.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

/**
 * IMMEDIATE mode: after every statement on a source, inside the writing transaction, the stream
 * table equals its query (checked on the writer's own connection, before commit).
 */
class ImmediateModeTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(ImmediateModeTest.class);
        db.exec("CREATE TABLE customers (id int PRIMARY KEY, region text NOT NULL)",
                "CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers ON DELETE CASCADE, amount int)",
                "INSERT INTO customers SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 10) g",
                "INSERT INTO orders SELECT g, 1 + g % 10, g FROM generate_series(1, 40) g");
    }

    private void immediate(String name, String query) {
        db.api.create(CreateOptions.of(name, query).withRefreshMode(RefreshMode.IMMEDIATE));
    }

    private static void exact(Connection c, String... streamTables) {
        for (String st : streamTables) {
            assertThat(Oracle.differences(c, st)).as("%s differs from its query", st).isEmpty();
        }
    }

    /**
     * Found by review: the session table of transition rows is made LIKE the source, which copies
     * NOT NULL, but the triggers copy only the columns they were installed with; a NOT NULL VIRTUAL
     * generated column (NULL in a transition table) or a NOT NULL column added after the stream
     * table made every write to the source fail.
     */
    @Test
    void notNullColumnsTheTriggersDoNotCopyDoNotBreakWrites() throws Exception {
        // PostgreSQL 15-17 have STORED generated columns only (their value is in the transition table)
        String kind = db.queryLong("SELECT current_setting('server_version_num')::bigint") >= 180000 ? "VIRTUAL" : "STORED";
        db.exec("CREATE TABLE nn_src (id int PRIMARY KEY, a int, v int NOT NULL GENERATED ALWAYS AS (a * 2) " + kind + ")",
                "INSERT INTO nn_src (id, a) VALUES (1, 1), (2, 2)");
        immediate("nn_st", "SELECT id, a FROM nn_src WHERE a > 1");
        db.exec("INSERT INTO nn_src (id, a) VALUES (3, 3)", "UPDATE nn_src SET a = a + 1", "DELETE FROM nn_src WHERE id = 2");
        db.assertOracle("nn_st");
        db.exec("ALTER TABLE nn_src ADD COLUMN z int NOT NULL DEFAULT 0");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {  // a session new to the stream table
            st.execute("INSERT INTO nn_src (id, a) VALUES (4, 4)");
            st.execute("UPDATE nn_src SET a = 0 WHERE id = 1");
            exact(c, "nn_st");
        }
    }

    @Test
    void everyStatementLeavesTheStreamTablesExactInsideItsTransaction() throws Exception {
        immediate("big_orders", "SELECT id, amount FROM orders WHERE amount > 20");
        immediate("by_region", "SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM orders o "
                + "JOIN customers c ON c.id = o.customer GROUP BY c.region");
        immediate("lonely", "SELECT c.id FROM customers c LEFT JOIN orders o ON o.customer = c.id WHERE o.id IS NULL");
        String[] all = {"big_orders", "by_region", "lonely"};
        assertThat(db.queryString("SELECT string_agg(refresh_mode || '/' || coalesce(ivm_lock_mode, '-'), ' ' ORDER BY pgt_id) "
                + "FROM pgtrickle.pgt_stream_tables")).isEqualTo("IMMEDIATE/ROW IMMEDIATE/EXCLUSIVE IMMEDIATE/EXCLUSIVE");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (String sql : List.of(
                    "INSERT INTO orders VALUES (100, 3, 50), (101, 3, 5)",
                    "UPDATE orders SET amount = amount + 30 WHERE id % 3 = 0",
                    "UPDATE orders SET customer = 2 WHERE customer = 3",         // join key update
                    "DELETE FROM orders WHERE customer = 5",                     // a customer loses all orders
                    "UPDATE customers SET region = 'apac' WHERE id IN (1, 2)",   // the other side of the join
                    // one statement, two sources: a writable CTE
                    "WITH c AS (INSERT INTO customers VALUES (11, 'eu') RETURNING id) "
                            + "INSERT INTO orders SELECT 200, id, 70 FROM c",
                    "DELETE FROM customers WHERE id = 4",                        // cascades to orders
                    "INSERT INTO orders SELECT 300 + g, 1 + g % 3, g FROM generate_series(1, 30) g")) {
                st.execute(sql);
                exact(c, all);
            }
            st.execute("SAVEPOINT s");
            st.execute("DELETE FROM orders WHERE amount > 10");
            exact(c, all);
            st.execute("ROLLBACK TO SAVEPOINT s");
            exact(c, all);
            c.commit();
        }
        for (String st : all) {
            db.assertOracle(st);
        }
        // A whole transaction rolled back leaves nothing behind.
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("DELETE FROM orders");
            exact(c, all);
            c.rollback();
        }
        for (String st : all) {
            db.assertOracle(st);
        }
        assertThat(db.queryLong("SELECT count(*) FROM orders")).isGreaterThan(40);
    }

    @Test
    void truncateCopyAndTheUsersOwnTriggers() throws Exception {
        immediate("by_customer", "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer");
        db.exec("CREATE TABLE audit (n int)",
                "CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "INSERT INTO orders VALUES (1000 + (SELECT count(*) FROM audit), 1, 1); "
                        + "INSERT INTO audit VALUES (1); RETURN NULL; END $$",
                "CREATE TRIGGER bump AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION bump()");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO customers VALUES (20, 'eu'), (21, 'us')"); // the trigger writes orders
            exact(c, "by_customer");
            st.execute("TRUNCATE orders");
            exact(c, "by_customer");
            long copied = c.unwrap(PGConnection.class).getCopyAPI()
                    .copyIn("COPY orders FROM STDIN (FORMAT csv)", new StringReader("1,1,10\n2,2,20\n3,2,5\n"));
            assertThat(copied).isEqualTo(3);
            exact(c, "by_customer");
            c.commit();
        }
        db.assertOracle("by_customer");
    }

    @Test
    void anImmediateStreamTableOverAnotherCascadesInTheSameTransaction() throws Exception {
        immediate("totals", "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer");
        immediate("top", "SELECT t.customer, t.total, c.region FROM totals t JOIN customers c ON c.id = t.customer "
                + "WHERE t.total > 80");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (String sql : List.of("UPDATE orders SET amount = amount * 3 WHERE customer IN (1, 2)",
                    "DELETE FROM orders WHERE customer = 3", "UPDATE customers SET region = 'x' WHERE id = 1",
                    "WITH x AS (UPDATE customers SET region = 'y' WHERE id = 2 RETURNING id) "
                            + "UPDATE orders SET amount = 1 WHERE customer IN (SELECT id FROM x)")) {
                st.execute(sql);
                exact(c, "totals", "top");
            }
            c.commit();
        }
        db.assertOracle("top");
    }

    @Test
    void switchingModesBothWaysNeverShowsAWrongResult() throws Exception {
        db.api.create(CreateOptions.of("by_customer", "SELECT customer, count(*) AS n FROM orders GROUP BY customer")
                .withRefreshMode(RefreshMode.DIFFERENTIAL).withSchedule("1h"));
        db.exec("INSERT INTO orders VALUES (500, 1, 1)");  // pending for the DIFFERENTIAL refresh
        db.api.alter("by_customer", AlterOptions.none().withRefreshMode(RefreshMode.IMMEDIATE));
        db.assertOracle("by_customer");
        db.exec("DELETE FROM orders WHERE customer = 2");
        db.assertOracle("by_customer");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_source_frontiers")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgt_capture_%' AND tgenabled <> 'D'"))
                .as("no scheduled reader: capture is off").isZero();

        db.api.alter("by_customer", AlterOptions.none().withRefreshMode(RefreshMode.DIFFERENTIAL));
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO orders VALUES (501, 4, 1)");
            c.commit();
        }
        assertThat(Oracle.differences(db, "by_customer")).as("scheduled again: stale until refreshed").hasSize(2);
        assertThat(db.api.refresh("by_customer").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("by_customer");
    }

    @Test
    void concurrentWritersAreSerialisedAndTheResultIsExact() throws Exception {
        immediate("by_region", "SELECT c.region, count(*) AS n, sum(o.amount) AS total FROM orders o "
                + "JOIN customers c ON c.id = o.customer GROUP BY c.region");
        immediate("amounts", "SELECT id, amount FROM orders");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Integer>> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            writers.add(pool.submit(() -> {
                int done = 0;
                try (Connection c = db.connect(); Statement st = c.createStatement()) {
                    for (int i = 0; i < 25; i++) {
                        int id = 10_000 + writer * 1000 + i;
                        int customer = 1 + ThreadLocalRandom.current().nextInt(10);
                        try {
                            if (writer % 2 == 0) {
                                st.execute("INSERT INTO orders VALUES (" + id + ", " + customer + ", " + i + ")");
                                st.execute("UPDATE orders SET amount = amount + 1 WHERE customer = " + customer);
                            } else {
                                st.execute("UPDATE customers SET region = 'r" + (i % 3) + "' WHERE id = " + customer);
                                st.execute("DELETE FROM orders WHERE id = " + (10_000 + (writer - 1) * 1000 + i));
                            }
                            done++;
                        } catch (SQLException e) {
                            // only a deadlock between writers may end a statement here; it rolled back whole
                            assertThat(e.getSQLState()).isEqualTo("40P01");
                        }
                    }
                }
                return done;
            }));
        }
        int statements = 0;
        for (Future<Integer> f : writers) {
            statements += f.get();
        }
        pool.shutdown();
        assertThat(statements).isGreaterThan(50);
        db.assertOracle("by_region");
        db.assertOracle("amounts");
        assertThat(db.queryLong("SELECT ivm_exclusive_count FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'by_region'"))
                .isGreaterThan(0);
        assertThat(db.queryLong("SELECT ivm_exclusive_count FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'amounts'"))
                .as("ROW mode takes no stream-table lock").isZero();
    }

    @Test
    void whatCannotBeMaintainedImmediatelyIsRefusedWithTheReason() {
        assertThatThrownBy(() -> immediate("ranked", "SELECT id, rank() OVER (ORDER BY amount) AS r FROM orders"))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_QUERY);
                    assertThat(e.getMessage()).contains("IMMEDIATE").contains("window");
                });
        db.api.create(CreateOptions.of("ranked", "SELECT id, rank() OVER (ORDER BY amount) AS r FROM orders"));
        assertThatThrownBy(() -> db.api.alter("ranked", AlterOptions.none().withRefreshMode(RefreshMode.IMMEDIATE)))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.sqlState()).isEqualTo("0A000"));
    }

    @Test
    void droppingAnImmediateStreamTableRemovesItsTriggers() {
        immediate("amounts", "SELECT id, amount FROM orders");
        assertThat(db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgt_ivm_%'")).isEqualTo(5);
        db.api.drop("amounts", false);
        assertThat(db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'pgt_ivm_%'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pg_proc WHERE proname LIKE 'ivm_%'")).isZero();
        db.exec("INSERT INTO orders VALUES (900, 1, 1)");
    }
}
