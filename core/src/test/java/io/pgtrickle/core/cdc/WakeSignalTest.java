package io.pgtrickle.core.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** Capture triggers wake a listening daemon: NOTIFY pgtrickle_wake, once per source and committed transaction. */
class WakeSignalTest {
    static Db db;
    static Connection listener;
    static String stable;

    @BeforeAll
    static void setUp() throws Exception {
        db = Db.create(WakeSignalTest.class);
        db.exec("CREATE TABLE items (id int PRIMARY KEY, qty int)", "CREATE TABLE other (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("qty_total", "SELECT sum(qty) AS q FROM items"));
        db.api.create(CreateOptions.of("other_count", "SELECT count(*) AS n FROM other"));
        stable = db.queryString("SELECT source_stable_name FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'items'::regclass");
        listener = db.connect();
        try (Statement st = listener.createStatement()) {
            st.execute("LISTEN pgtrickle_wake");
        }
    }

    @AfterAll
    static void tearDown() throws Exception {
        listener.close();
    }

    /** Notifications that arrive within {@code millis}; waits the whole time only when none comes. */
    private static List<String> received(int millis) throws Exception {
        List<String> out = new ArrayList<>();
        PGNotification[] batch = listener.unwrap(PGConnection.class).getNotifications(millis);
        while (batch != null && batch.length > 0) {
            for (PGNotification n : batch) {
                out.add(n.getName() + ":" + n.getParameter());
            }
            batch = listener.unwrap(PGConnection.class).getNotifications(200); // stragglers of the same commit
        }
        return out;
    }

    @Test
    void oneSignalPerSourceAndCommittedTransactionNoneBeforeCommit() throws Exception {
        received(50);
        String otherStable = db.queryString(
                "SELECT source_stable_name FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'other'::regclass");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO items VALUES (1, 10), (2, 20)");
            st.execute("UPDATE items SET qty = qty + 1");
            st.execute("DELETE FROM items WHERE id = 2");
            st.execute("INSERT INTO other VALUES (1)");
            assertThat(received(300)).as("NOTIFY is transactional: nothing before the commit").isEmpty();
            c.commit();
        }
        assertThat(received(10_000)).containsExactlyInAnyOrder("pgtrickle_wake:" + stable, "pgtrickle_wake:" + otherStable);
        assertThat(stable).matches("[0-9a-f]{16}");
    }

    @Test
    void aRolledBackTransactionAndTheSwitchSendNothing() throws Exception {
        received(50);
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO items VALUES (100, 1)");
            c.rollback();
            st.execute("SET pg_trickle.event_driven_wake = off");
            st.execute("INSERT INTO items VALUES (101, 1)");
            c.commit();
        }
        assertThat(received(300)).isEmpty();
        db.exec("INSERT INTO items VALUES (102, 1)");
        assertThat(received(10_000)).containsExactly("pgtrickle_wake:" + stable);
    }

    @Test
    void captureFunctionsWrittenBeforeTheSignalAreRewritten() throws Exception {
        String fn = "pgtrickle_changes.capture_" + stable;
        String src = db.queryString("SELECT prosrc FROM pg_proc WHERE oid = '" + fn + "'::regproc");
        String old = src.replaceAll("(?m)^\\s*PERFORM pgtrickle\\._wake\\([^)]*\\);\\R", "");
        assertThat(old).doesNotContain("_wake");
        db.exec("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                + "SET search_path = pg_catalog, pg_temp AS " + ChangeCapture.dollarQuote(old));
        received(50);
        db.exec("INSERT INTO items VALUES (200, 1)");
        assertThat(received(300)).as("an old capture function sends nothing").isEmpty();

        try (Connection c = db.connect()) {
            assertThat(new ChangeCapture().rewriteOutdatedFunctions(c)).isEqualTo(1);
            assertThat(new ChangeCapture().rewriteOutdatedFunctions(c)).isZero();
        }
        db.exec("INSERT INTO items VALUES (201, 1)");
        assertThat(received(10_000)).containsExactly("pgtrickle_wake:" + stable);
        db.api.refresh("qty_total");
        db.assertOracle("qty_total");
    }
}
