package io.pgtrickle.core.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.lifecycle.RequestProcessor;
import io.pgtrickle.core.schedule.LeaderLock;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * The SQL API as roles that are not superusers use it: compiling procedures handed to a daemon
 * through the request table, transactional catalog work, ownership, and refreshes with the
 * owner's rights. A stand-in daemon holds the leader lock and runs the {@link RequestProcessor}.
 */
class SqlApiTest {
    private static final String ALICE = "sqlapi_alice";
    private static final String BOB = "sqlapi_bob";
    private static final String TOTALS = "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer";

    private Db db;
    private Connection leader;
    private Thread daemon;
    private volatile boolean daemonRunning;

    @BeforeEach
    void setUp() throws Exception {
        db = Db.create(SqlApiTest.class);
        for (String role : List.of(ALICE, BOB)) {
            db.exec("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '" + role + "') THEN "
                    + "CREATE ROLE " + role + " LOGIN; END IF; END $$");
        }
        db.exec("GRANT CREATE ON SCHEMA public TO " + ALICE + ", " + BOB,
                "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric NOT NULL)",
                "INSERT INTO orders SELECT g, 'c' || (g % 5), g FROM generate_series(1, 50) g",
                "CREATE TABLE secret (id int PRIMARY KEY, note text)",
                "GRANT SELECT ON orders TO " + ALICE + ", " + BOB);
        startDaemon();
    }

    @AfterEach
    void tearDown() throws Exception {
        stopDaemon();
    }

    @Test
    void aRoleCreatesThroughTheDaemonOwnsTheResultAndRefreshesIt() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CALL pgtrickle.create_stream_table('totals', '" + TOTALS + "', '1m', 'DIFFERENTIAL')");
        }
        assertThat(db.queryString("SELECT tableowner FROM pg_tables WHERE tablename = 'totals'")).isEqualTo(ALICE);
        assertThat(db.queryString("SELECT refresh_mode FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'totals'"))
                .isEqualTo("DIFFERENTIAL");
        db.assertOracle("totals");

        db.exec("INSERT INTO orders VALUES (51, 'c1', 100)", "UPDATE orders SET amount = amount + 1 WHERE id <= 5",
                "DELETE FROM orders WHERE id = 7");
        // The owner refreshes (no role switch), then a superuser does (the data runs as the owner).
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CALL pgtrickle.refresh_stream_table('totals')");
        }
        db.assertOracle("totals");
        assertThat(lastAction("totals")).isEqualTo("DIFFERENTIAL");
        db.exec("INSERT INTO orders VALUES (52, 'c9', 3)");
        db.api.refresh("totals");
        db.assertOracle("totals");
        assertThat(lastAction("totals")).isEqualTo("DIFFERENTIAL");
        // Its status, read by the owner and by another role: whether capture was lost is read from
        // the change buffer's store, which neither may read itself (it failed with 42501).
        db.exec("INSERT INTO orders VALUES (53, 'c2', 4)");
        for (String role : List.of(ALICE, BOB)) {
            try (Connection c = connectAs(role)) {
                StreamTables api = StreamTables.onConnection(c);
                assertThat(api.get("totals").needsReinit()).isFalse();
                assertThat(api.list()).extracting(StreamTableInfo::name).contains("totals");
            }
        }
    }

    @Test
    void aRoleCannotCreateOverATableItCannotRead() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThatThrownBy(() -> st.execute(
                    "CALL pgtrickle.create_stream_table('peek', 'SELECT o.id, s.note FROM orders o JOIN secret s ON s.id = o.id')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("secret").contains(ALICE);
                    });
        }
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'peek'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking")).isZero();
    }

    @Test
    void aRoleCannotCreateInASchemaItCannotCreateIn() throws Exception {
        db.exec("CREATE SCHEMA closed");
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('closed.t', '" + TOTALS + "')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("closed");
                    });
        }
    }

    @Test
    void anotherRoleCannotAlterDropRefreshResumeOrReplaceIt() throws Exception {
        createAsAlice("totals", TOTALS);
        long id = db.queryLong("SELECT pgt_id FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'totals'");
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            for (String call : List.of(
                    "CALL pgtrickle.alter_stream_table('totals', schedule => '5m')",
                    "CALL pgtrickle.drop_stream_table('totals')",
                    "CALL pgtrickle.refresh_stream_table('totals')",
                    "CALL pgtrickle.resume_stream_table('totals')",
                    "CALL pgtrickle.alter_stream_table('totals', query => 'SELECT customer FROM orders')",
                    "CALL pgtrickle.create_or_replace_stream_table('public.totals', 'SELECT customer FROM orders')",
                    // the internal routines check the caller too
                    "SELECT pgtrickle._drop(" + id + ", true)",
                    "SELECT pgtrickle._alter(" + id + ", '5m', NULL, NULL)",
                    "SELECT pgtrickle._record_failure(" + id + ", 'MANUAL', now(), '22012', 'forged')",
                    "SELECT * FROM pgtrickle._refresh(" + id + ", 'SCHEDULER', true)")) {
                assertThatThrownBy(() -> st.execute(call)).as(call)
                        .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).as(call).isEqualTo("42501"));
            }
        }
        assertThat(db.queryString("SELECT schedule || ' ' || status || ' ' || consecutive_errors FROM pgtrickle.pgt_stream_tables"))
                .isEqualTo("1m ACTIVE 0");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE status = 'FAILED'")).isZero();
        db.assertOracle("totals");
    }

    @Test
    void refreshesRunWithTheOwnersRights() throws Exception {
        createAsAlice("totals", TOTALS);
        db.exec("REVOKE SELECT ON orders FROM " + ALICE, "INSERT INTO orders VALUES (60, 'c0', 1)");
        assertThatThrownBy(() -> db.api.refresh("totals"))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.sqlState()).isEqualTo("42501");
                    assertThat(e.getMessage()).contains("orders");
                });
        assertThat(db.queryString("SELECT status FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'totals'"))
                .isEqualTo("ERROR");
        String buffer = db.queryString("SELECT buffer_table FROM pgtrickle.pgt_change_tracking");
        assertThat(db.queryString("SELECT has_table_privilege('" + ALICE + "', '" + buffer + "', 'SELECT')"))
                .as("no access to the changes of a table it can no longer read").isEqualTo("f");
        // Column privileges are not enough: a change buffer holds the columns of every reader.
        db.exec("GRANT SELECT (customer, amount) ON orders TO " + ALICE);
        db.api.resume("totals");
        assertThatThrownBy(() -> db.api.refresh("totals"))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.sqlState()).isEqualTo("42501"));
        db.exec("GRANT SELECT ON orders TO " + ALICE);
        db.api.resume("totals");
        db.api.refresh("totals");
        db.assertOracle("totals");
    }

    @Test
    void immediateMaintenanceIsForTheOwnerOfTheSourcesAndServesEveryWriter() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('imm', '" + TOTALS + "', 'calculated', 'IMMEDIATE')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("orders");
                    });
            st.execute("CREATE TABLE mine (id int PRIMARY KEY, v int)");
            st.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON mine TO " + BOB);
            st.execute("CALL pgtrickle.create_stream_table('mine_sum', 'SELECT sum(v) AS s, count(*) AS n FROM mine', "
                    + "'calculated', 'IMMEDIATE')");
            st.execute("GRANT SELECT ON mine_sum TO " + BOB);
        }
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            bob.setAutoCommit(false);
            st.execute("INSERT INTO mine SELECT g, g FROM generate_series(1, 10) g");
            st.execute("UPDATE mine SET v = v * 2 WHERE id <= 3");
            assertThat(Oracle.differences(bob, "mine_sum")).isEmpty();
            bob.commit();
        }
        db.assertOracle("mine_sum");
        assertThat(db.queryString("SELECT tableowner FROM pg_tables WHERE tablename = 'mine_sum'")).isEqualTo(ALICE);
    }

    @Test
    void aWriterCannotSlipItsOwnStatementIntoImmediateMaintenance() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CREATE TABLE mine (id int PRIMARY KEY, v int)");
            st.execute("CREATE TABLE alice_private (note text)");
            st.execute("INSERT INTO alice_private VALUES ('only alice may delete this')");
            st.execute("GRANT SELECT, INSERT ON mine TO " + BOB);
            st.execute("CALL pgtrickle.create_stream_table('mine_sum', 'SELECT sum(v) AS s, count(*) AS n FROM mine', "
                    + "'calculated', 'IMMEDIATE')");
        }
        // Earlier releases ran the maintenance statement as a prepared statement of the writer's
        // session, named from the catalog; one prepared first under that name ran as the owner.
        String name = db.queryString("SELECT 'pgt_ivm_' || pgt_id || '_' || left(md5(ivm_apply_sql), 12)"
                + " FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'mine_sum'");
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            st.execute("PREPARE " + name + "(pg_snapshot, pg_snapshot, oid[]) AS WITH gone AS "
                    + "(DELETE FROM public.alice_private RETURNING 1) SELECT count(*)::bigint, 0::bigint FROM gone");
            st.execute("INSERT INTO mine SELECT g, g FROM generate_series(1, 5) g");
        }
        assertThat(db.queryLong("SELECT count(*) FROM alice_private")).isEqualTo(1);
        db.assertOracle("mine_sum");
        assertThat(db.queryLong("SELECT s FROM mine_sum")).isEqualTo(15);
    }

    // --- attacks by a role holding only LOGIN, SELECT on orders and CREATE on public ---------

    private static final String STEAL = "INSERT INTO public.loot SELECT current_user, "
            + "(SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user), "
            + "(SELECT string_agg(note, ',') FROM public.secret)";

    @Test
    void codeInADefiningQueryCannotGetBackToTheDaemonsRole() throws Exception {
        db.exec("INSERT INTO secret VALUES (1, 'crown jewels')", "CREATE TABLE loot (who text, su boolean, stolen text)",
                "GRANT INSERT ON loot TO " + BOB);
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            for (String escape : List.of("pg_catalog.set_config('role', 'none', true)",
                    "pg_catalog.set_config('role', 'none', false)", "pg_catalog.set_config('role', '" + ALICE + "', false)")) {
                st.execute("CREATE OR REPLACE FUNCTION public.pwn(i int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN "
                        + "IF i = 1 THEN PERFORM " + escape + "; " + STEAL + "; END IF; RETURN i; END $f$");
                assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('p', 'SELECT id, public.pwn(id) AS x FROM orders')"))
                        .as(escape).isInstanceOf(SQLException.class);
            }
            // Created harmless, made harmful later: the daemon's and a superuser's refreshes still fail.
            st.execute("CREATE OR REPLACE FUNCTION public.pwn(i int) RETURNS int LANGUAGE sql AS 'SELECT i'");
            st.execute("CALL pgtrickle.create_stream_table('p', 'SELECT id, public.pwn(id) AS x FROM orders', '1m', 'FULL')");
            st.execute("CREATE OR REPLACE FUNCTION public.pwn(i int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN "
                    + "IF i = 1 THEN PERFORM pg_catalog.set_config('role', 'none', false); " + STEAL + "; END IF; RETURN i; END $f$");
        }
        assertThatThrownBy(() -> db.api.refresh("p", true)).isInstanceOf(PgtException.class);
        assertThat(db.queryLong("SELECT count(*) FROM loot")).isZero();
    }

    @Test
    void codeInADefiningQueryCannotLeaveItsMarkOnTheSessionThatRefreshes() throws Exception {
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            st.execute("CREATE FUNCTION public.mark(i int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN "
                    + "IF i = 1 AND pg_catalog.current_setting('pg_trickle.armed', true) = 'on' THEN "
                    + "PERFORM pg_catalog.set_config('search_path', 'public, pg_catalog', false); END IF; RETURN i; END $f$");
            st.execute("CREATE FUNCTION public.shadow(i int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN "
                    + "IF i = 1 AND pg_catalog.current_setting('pg_trickle.armed', true) = 'on' THEN "
                    + "CREATE TEMP TABLE IF NOT EXISTS pg_locks (x int); END IF; RETURN i; END $f$");
            st.execute("CREATE FUNCTION public.typed(i int) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN "
                    + "IF i = 1 AND pg_catalog.current_setting('pg_trickle.armed', true) = 'on' THEN "
                    + "CREATE TYPE pg_temp.shade AS (x int); END IF; RETURN i; END $f$");
            st.execute("CALL pgtrickle.create_stream_table('m', 'SELECT id, public.mark(id) AS x FROM orders', '1m', 'FULL')");
            st.execute("CALL pgtrickle.create_stream_table('t', 'SELECT id, public.shadow(id) AS x FROM orders', '1m', 'FULL')");
            st.execute("CALL pgtrickle.create_stream_table('y', 'SELECT id, public.typed(id) AS x FROM orders', '1m', 'FULL')");
            st.execute("CALL pgtrickle.create_stream_table('plain', 'SELECT id FROM orders', '1m', 'FULL')");
        }
        try (Connection admin = db.connect(); Statement st = admin.createStatement()) {
            st.execute("SET pg_trickle.armed = on");
            String path = queryText(st, "SHOW search_path");
            // A session-level search_path or a temporary table or type would outlive the refresh and
            // steer the daemon's own statements: refused, and undone with the refresh's transaction.
            // Twice: in a session without a temporary schema, then in one that has temporary objects
            // of its own (its own IMMEDIATE tables among them), which must not count as a change.
            for (boolean ownTemporaryObjects : List.of(false, true)) {
                if (ownTemporaryObjects) {
                    st.execute("CREATE TEMP TABLE mine (x int)");
                    st.execute("CREATE TEMP TABLE pgt_ivm_0_0 (x int)");
                }
                long before = countOf(st, "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()");
                for (String name : List.of("m", "t", "y")) {
                    st.execute("CALL pgtrickle.resume_stream_table('" + name + "')");  // a failed refresh may have suspended it
                    assertThatThrownBy(() -> st.execute("CALL pgtrickle.refresh_stream_table('" + name + "', true)"))
                            .isInstanceOfSatisfying(SQLException.class, e -> {
                                assertThat(e.getSQLState()).isEqualTo("42501");
                                assertThat(e.getMessage()).contains("changed the session");
                            });
                    assertThat(queryText(st, "SHOW search_path")).isEqualTo(path);
                    assertThat(countOf(st, "SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()"))
                            .isEqualTo(before);
                }
                st.execute("CALL pgtrickle.refresh_stream_table('plain', true)");
            }
        }
    }

    @Test
    void theCallersSearchPathResolvesOnlyTheNamesInItsQuery() throws Exception {
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            for (String[] f : List.of(new String[] {"has_table_privilege(r name, t oid, p text) RETURNS boolean", "r, t, p"},
                    new String[] {"quote_ident(t text) RETURNS text", "t"},
                    new String[] {"format_type(t oid, m integer) RETURNS text", "t, m"})) {
                String name = f[0].substring(0, f[0].indexOf('('));
                // Harmless to Bob's own calls; fails anyone else's, so the daemon running it fails the request.
                st.execute("CREATE FUNCTION public." + f[0] + " LANGUAGE plpgsql AS $f$ BEGIN "
                        + "IF current_user <> '" + BOB + "' THEN RAISE EXCEPTION 'hijacked by %', current_user; END IF; "
                        + "RETURN pg_catalog." + name + "(" + f[1] + "); END $f$");
            }
            st.execute("SET search_path = public, pg_catalog");
            st.execute("CALL pgtrickle.create_stream_table('q', 'SELECT id FROM orders')");
        }
        db.assertOracle("q");
    }

    @Test
    void aViewDoesNotOpenTheTablesBehindIt() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CREATE VIEW public.v AS SELECT id, note FROM secret");
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('leak', 'SELECT id, note FROM v', initialize => false)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42501");
                        assertThat(e.getMessage()).contains("secret");
                    });
        }
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking")).isZero();
    }

    @Test
    void aMalformedRequestFailsAloneAndTheQueueGoesOn() throws Exception {
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            st.execute("INSERT INTO pgtrickle.pgt_requests (kind, payload) "
                    + "VALUES ('create', '{\"name\": \"x\", \"query\": \"SELECT 1\", \"initialize\": \"maybe\"}')");
            st.execute("INSERT INTO pgtrickle.pgt_requests (kind, payload) VALUES ('create', '{}')");
            assertThatThrownBy(() -> st.execute("INSERT INTO pgtrickle.pgt_requests (kind, payload) VALUES ('drop_database', '{}')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        createAsAlice("totals", TOTALS);
        db.assertOracle("totals");
        assertThat(db.queryStrings("SELECT status || ' ' || coalesce(error_sqlstate, '-') FROM pgtrickle.pgt_requests ORDER BY request_id"))
                .containsExactly("FAILED 22023", "FAILED 22023", "DONE -");
    }

    @Test
    void replacingAndDroppingTakeBackAccessToChanges() throws Exception {
        db.exec("CREATE TABLE staff (id int PRIMARY KEY, name text)", "GRANT SELECT ON staff TO " + ALICE);
        createAsAlice("a1", "SELECT id, name FROM staff");
        String staffBuffer = db.queryString("SELECT buffer_table FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'staff'::regclass");
        // another stream table keeps the staff buffer alive after alice stops reading it
        db.api.create(CreateOptions.of("adm", "SELECT id, name FROM staff"));
        assertThat(db.queryString("SELECT has_table_privilege('" + ALICE + "', '" + staffBuffer + "', 'SELECT')")).isEqualTo("t");
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CALL pgtrickle.create_or_replace_stream_table('a1', 'SELECT id, customer FROM orders')");
        }
        assertThat(db.queryString("SELECT has_table_privilege('" + ALICE + "', '" + staffBuffer + "', 'SELECT')"))
                .as(() -> "alice's access to " + staffBuffer + " after the replace; its ACL, readers and their owners: "
                        + db.queryStrings("SELECT 'acl ' || coalesce(relacl::text, '-') || ' owner ' || relowner::regrole FROM pg_class "
                                + "WHERE oid = '" + staffBuffer + "'::regclass UNION ALL SELECT s.pgt_name || ' owner ' "
                                + "|| pgtrickle._owner(s.pgt_id) || ' reads ' || d.source_relid::regclass FROM pgtrickle.pgt_stream_tables s "
                                + "JOIN pgtrickle.pgt_dependencies d USING (pgt_id) UNION ALL SELECT 'request ' || kind || ' ' || status "
                                + "|| coalesce(' ' || result::text, '') FROM pgtrickle.pgt_requests"))
                .isEqualTo("f");
        db.assertOracle("a1");
    }

    @Test
    void aStreamTableWithoutItsStorageIsForSuperusersOnly() throws Exception {
        createAsAlice("a2", TOTALS);
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("DROP TABLE a2");
        }
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.alter_stream_table('a2', schedule => '5s')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
        }
        db.api.drop("a2", false);
    }

    @Test
    void catalogWorkIsTransactionalAndResumeSendsAnAlert() throws Exception {
        createAsAlice("totals", TOTALS);
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement();
             Connection listener = db.connect(); Statement ls = listener.createStatement()) {
            ls.execute("LISTEN pgtrickle_alert");
            alice.setAutoCommit(false);
            st.execute("CALL pgtrickle.alter_stream_table('totals', schedule => '5m', refresh_mode => 'FULL')");
            st.execute("CALL pgtrickle.drop_stream_table('totals')");
            alice.rollback();
            assertThat(db.queryString("SELECT schedule || ' ' || refresh_mode FROM pgtrickle.pgt_stream_tables"))
                    .isEqualTo("1m DIFFERENTIAL");
            db.assertOracle("totals");

            st.execute("CALL pgtrickle.alter_stream_table('totals', schedule => '@hourly', status => 'PAUSED')");
            alice.commit();
            assertThat(db.queryString("SELECT schedule || ' ' || status FROM pgtrickle.pgt_stream_tables"))
                    .isEqualTo("@hourly PAUSED");
            st.execute("CALL pgtrickle.resume_stream_table('totals')");
            alice.commit();
            assertThat(db.queryString("SELECT status FROM pgtrickle.pgt_stream_tables")).isEqualTo("ACTIVE");
            List<String> alerts = new ArrayList<>();
            for (int i = 0; i < 50 && alerts.isEmpty(); i++) {
                ls.execute("SELECT 1");
                PGNotification[] n = listener.unwrap(PGConnection.class).getNotifications(100);
                if (n != null) {
                    for (PGNotification x : n) {
                        alerts.add(x.getParameter());
                    }
                }
            }
            assertThat(alerts).singleElement().asString()
                    .contains("\"event\": \"resumed\"").contains("\"previous_status\": \"PAUSED\"");

            assertThatThrownBy(() -> st.execute("CALL pgtrickle.alter_stream_table('totals', schedule => '*/75 * * * *')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
            alice.rollback();
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.alter_stream_table('totals', refresh_mode => 'SOMETIMES')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
            alice.rollback();

            st.execute("CALL pgtrickle.drop_stream_table('totals')");
            alice.commit();
        }
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pg_class WHERE relname = 'totals'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking")).isZero();
    }

    @Test
    void compilingProceduresRefuseATransactionBlockAndNameTheDeferredForm() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            alice.setAutoCommit(false);
            st.execute("CREATE TEMP TABLE scratch (x int)");
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('totals', '" + TOTALS + "')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("25001");
                        assertThat(e.getMessage()).contains("transaction block");
                        assertThat(serverHint(e)).contains("create_stream_table_deferred");
                    });
            alice.rollback();
            // A block that has not written yet is recognised only by the COMMIT inside the call.
            st.execute("SELECT 1");
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('totals', '" + TOTALS + "')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("2D000"));
            alice.rollback();

            // Deferred: nothing on rollback, applied by the daemon after commit.
            st.execute("SELECT pgtrickle.create_stream_table_deferred('totals', '" + TOTALS + "')");
            alice.rollback();
            long filed = 0;
            try (var rs = st.executeQuery("SELECT pgtrickle.create_stream_table_deferred('totals', '" + TOTALS + "', '30s')")) {
                rs.next();
                filed = rs.getLong(1);
            }
            alice.commit();
            String status = waitForRequest(filed);
            assertThat(status).isEqualTo("DONE");
        }
        assertThat(db.queryString("SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'totals'")).isEqualTo("30s");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_requests")).isEqualTo(1);
        db.assertOracle("totals");
    }

    @Test
    void theEnginesErrorsAndNoticesReachTheCaller() throws Exception {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('bad', 'SELECT nope FROM orders')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("42703");
                        assertThat(e.getMessage()).contains("nope");
                    });
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('bad', '" + TOTALS + "', 'now and then')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"));
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('bad', '" + TOTALS + "', NULL)"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22004"));

            st.execute("CALL pgtrickle.create_stream_table('ranked', "
                    + "'SELECT id, rank() OVER (ORDER BY amount) AS r FROM orders', '1m', 'AUTO')");
            assertThat(warnings(st)).anyMatch(w -> w.contains("using FULL refresh"));
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('ranked', 'SELECT id FROM orders')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P07"));
            st.execute("CALL pgtrickle.create_stream_table_if_not_exists('ranked', 'SELECT id FROM orders')");

            // A new query through alter keeps the schedule.
            st.execute("CALL pgtrickle.alter_stream_table('ranked', query => 'SELECT id, amount FROM orders WHERE amount > 10')");
        }
        assertThat(db.queryString("SELECT schedule || ' ' || refresh_mode FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'ranked'"))
                .isEqualTo("1m DIFFERENTIAL");
        db.assertOracle("ranked");
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(1);
    }

    @Test
    void requestsAreFiledAndSeenOnlyByTheirRole() throws Exception {
        createAsAlice("totals", TOTALS);
        try (Connection bob = connectAs(BOB); Statement st = bob.createStatement()) {
            assertThat(countOf(st, "SELECT count(*) FROM pgtrickle.pgt_requests")).isZero();
            assertThatThrownBy(() -> st.execute("INSERT INTO pgtrickle.pgt_requests (kind, payload, requested_by) "
                    + "VALUES ('create', '{}', '" + ALICE + "')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> st.execute("UPDATE pgtrickle.pgt_stream_tables SET schedule = '1s'"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThatThrownBy(() -> st.execute("SELECT * FROM pgtrickle_changes.pgt_fake"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            // Reading the catalog is allowed, as pg_class is.
            assertThat(countOf(st, "SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(1);
        }
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThat(countOf(st, "SELECT count(*) FROM pgtrickle.pgt_requests")).isEqualTo(1);
        }
    }

    @Test
    void withoutADaemonTheCallFailsAtOnce() throws Exception {
        stopDaemon();
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('totals', '" + TOTALS + "')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getSQLState()).isEqualTo("55000");
                        assertThat(serverHint(e)).contains("pgtrickle serve");
                    });
        }
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_requests")).isZero();
    }

    // --- helpers -----------------------------------------------------------------------------

    private void createAsAlice(String name, String query) throws SQLException {
        try (Connection alice = connectAs(ALICE); Statement st = alice.createStatement()) {
            st.execute("CALL pgtrickle.create_stream_table('" + name + "', '" + query + "', '1m', 'AUTO')");
        }
    }

    private Connection connectAs(String role) throws SQLException {
        String url = db.url();
        url = url.matches(".*[?&]user=.*") ? url.replaceAll("([?&])user=[^&]*", "$1user=" + role)
                : url + (url.contains("?") ? "&" : "?") + "user=" + role;
        return DriverManager.getConnection(url);
    }

    private String lastAction(String name) {
        return db.queryString("SELECT h.action FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s "
                + "USING (pgt_id) WHERE s.pgt_name = '" + name + "' ORDER BY h.refresh_id DESC LIMIT 1");
    }

    private String waitForRequest(long id) throws InterruptedException {
        for (int i = 0; i < 300; i++) {
            String status = db.queryString("SELECT status FROM pgtrickle.pgt_requests WHERE request_id = " + id);
            if (status.equals("DONE") || status.equals("FAILED")) {
                return status;
            }
            Thread.sleep(50);
        }
        return "TIMEOUT";
    }

    private static String queryText(Statement st, String sql) throws SQLException {
        try (var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static long countOf(Statement st, String sql) throws SQLException {
        try (var rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String serverHint(SQLException e) {
        return e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null
                ? String.valueOf(p.getServerErrorMessage().getHint()) : "";
    }

    private static List<String> warnings(Statement st) throws SQLException {
        List<String> out = new ArrayList<>();
        for (SQLWarning w = st.getWarnings(); w != null; w = w.getNextWarning()) {
            out.add(w.getMessage());
        }
        return out;
    }

    /** A stand-in for pgtrickle serve: holds the leader lock and carries out requests. */
    private void startDaemon() throws SQLException {
        leader = db.connect();
        assertThat(LeaderLock.tryAcquire(leader)).isTrue();
        daemonRunning = true;
        daemon = new Thread(() -> {
            RequestProcessor processor = new RequestProcessor();
            try (Connection c = db.connect()) {
                while (daemonRunning) {
                    if (!processor.processNext(c)) {
                        Thread.sleep(10);
                    }
                }
            } catch (SQLException | InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }, "sqlapi-test-daemon");
        daemon.start();
    }

    private void stopDaemon() throws Exception {
        if (daemon != null) {
            daemonRunning = false;
            daemon.join(10_000);
            daemon = null;
        }
        if (leader != null) {
            leader.close();
            leader = null;
        }
    }
}
