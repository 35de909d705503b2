package io.pgtrickle.core.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ChangeCaptureTest {
    static Db db;

    @BeforeAll
    static void setUp() {
        db = Db.create(ChangeCaptureTest.class);
    }

    private static String store(String table) {
        return db.queryString("SELECT buffer_store FROM pgtrickle.pgt_change_tracking WHERE source_relid = '" + table + "'::regclass");
    }

    private static String buffer(String table) {
        return db.queryString("SELECT buffer_table FROM pgtrickle.pgt_change_tracking WHERE source_relid = '" + table + "'::regclass");
    }

    /** A buffer's view as releases before this one made it: unnest(...) joined laterally. */
    private static String lateralView(String view, String store, String out, String names) {
        return "CREATE OR REPLACE VIEW " + view + " AS SELECT b.__pgt_xid, b.__pgt_action, " + out + " FROM " + store
                + " b LEFT JOIN LATERAL unnest(" + names.replaceAll("(\\w+)", "b.$1") + ") AS u(" + names + ") ON true";
    }

    @Test
    void aBufferWidenedFromNoColumnsKeepsEveryRowOfItsEarlierBatches() {
        // No primary key and count(*): the buffer captures no column until a second stream table needs one.
        db.exec("CREATE TABLE wide0_src (id int, a int)", "INSERT INTO wide0_src VALUES (1, 1), (2, 2)");
        db.api.create(CreateOptions.of("wide0_count", "SELECT count(*) AS c FROM wide0_src"));
        db.exec("INSERT INTO wide0_src VALUES (3, 3), (4, 4), (5, 5)", "DELETE FROM wide0_src WHERE id = 1");
        db.api.create(CreateOptions.of("wide0_a", "SELECT a FROM wide0_src"));
        // The batches written before the widening hold no array for a: each still reads as its rows.
        assertThat(db.queryLong("SELECT count(*) FROM " + buffer("wide0_src") + " WHERE a IS NULL")).isEqualTo(4);
        db.exec("INSERT INTO wide0_src VALUES (6, 6)");
        for (String st : List.of("wide0_count", "wide0_a")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle(st);
        }
    }

    @Test
    void anInstallRewritesAnOlderViewFromItsOwnColumnsWhenTheSourceChangedSince() {
        db.exec("CREATE TABLE drift_src (id int PRIMARY KEY, a text, b text)", "INSERT INTO drift_src VALUES (1, 'x', 'y')");
        db.api.create(CreateOptions.of("drift_a", "SELECT id, a FROM drift_src"));
        db.api.create(CreateOptions.of("drift_b", "SELECT id, b FROM drift_src"));
        db.api.drop("drift_b", false);
        db.exec("INSERT INTO drift_src VALUES (2, 'z', 'w')");
        String view = buffer("drift_src");
        db.exec(lateralView(view, store("drift_src"), "u.id, u.a, u.b", "id, a, b"));
        // The source's b is no longer what the buffer holds.
        // As a release before the DDL guard (catalog version 10) let it happen: b is still captured
        db.exec("ALTER EVENT TRIGGER pg_trickle_ddl_tracker DISABLE", "ALTER EVENT TRIGGER pg_trickle_rewrite_tracker DISABLE",
                "ALTER TABLE drift_src ALTER COLUMN b TYPE text[] USING ARRAY[b]",
                "ALTER EVENT TRIGGER pg_trickle_ddl_tracker ENABLE", "ALTER EVENT TRIGGER pg_trickle_rewrite_tracker ENABLE");
        String rows = "SELECT string_agg(concat_ws('|', __pgt_action, id, a, b), ';' ORDER BY __pgt_xid, id) FROM " + view;
        String before = db.queryString(rows);

        db.api.install();

        assertThat(db.queryString("SELECT pg_get_viewdef('" + view + "'::regclass)")).contains(BatchedBuffer.ROW_SOURCE);
        assertThat(db.queryString(rows)).isEqualTo(before).isEqualTo("I|2|z|w");
        assertThat(db.api.refresh("drift_a").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("drift_a");
    }

    @Test
    void anInstallKeepsAnOlderViewItCannotRewriteAndCompletes() {
        db.exec("CREATE TABLE keep_src (id int PRIMARY KEY, n numeric(10,2), t text)", "INSERT INTO keep_src VALUES (1, 1.5, 'a')");
        db.api.create(CreateOptions.of("keep_st", "SELECT id, n, t FROM keep_src WHERE n > 1"));
        String view = buffer("keep_src");
        // An old-form view whose column type its rebuild cannot reproduce (numeric(10,2), where unnest gives numeric).
        db.exec("DROP VIEW " + view, lateralView(view, store("keep_src"), "u.id, u.n::numeric(10,2) AS n, u.t", "id, n, t"));
        db.exec("INSERT INTO keep_src VALUES (2, 2.25, 'b')", "UPDATE keep_src SET n = 0.5 WHERE id = 1");

        db.api.install();  // completes; the view keeps its form

        assertThat(db.queryString("SELECT pg_get_viewdef('" + view + "'::regclass)")).containsIgnoringCase("LATERAL unnest(");
        assertThat(db.api.refresh("keep_st").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("keep_st");
    }

    @Test
    void anInstallRewritesBufferViewsOfTheLateralFormWithTheSameRowsAndGrants() throws Exception {
        db.exec("CREATE TABLE lat_src (id int PRIMARY KEY, a text COLLATE \"C\", n numeric)",
                "INSERT INTO lat_src VALUES (1, 'x', 1.5), (2, NULL, NULL), (3, 'y', 3)",
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lat_reader') THEN "
                        + "CREATE ROLE lat_reader; END IF; END $$");
        db.api.create(CreateOptions.of("lat_st", "SELECT id, a FROM lat_src WHERE a IS DISTINCT FROM 'z'"));
        db.exec("INSERT INTO lat_src VALUES (4, 'z', 4), (5, NULL, 5)", "UPDATE lat_src SET a = 'w' WHERE id <= 2",
                "DELETE FROM lat_src WHERE id = 3");
        // A second stream table widens the buffer by n: the batches above hold no array for it.
        db.api.create(CreateOptions.of("lat_wide", "SELECT id, n FROM lat_src"));
        db.exec("INSERT INTO lat_src VALUES (6, 'v', NULL)", "UPDATE lat_src SET n = n + 1, a = NULL WHERE id IN (1, 4)",
                "TRUNCATE lat_src", "INSERT INTO lat_src VALUES (7, 'u', 7)");
        String view = buffer("lat_src");
        String store = store("lat_src");
        String rows = "SELECT string_agg(concat_ws('|', __pgt_xid, __pgt_action, id, coalesce(a, '-'), coalesce(n::text, '-')), ';' "
                + "ORDER BY __pgt_xid, __pgt_action, id, a COLLATE \"C\", n) FROM " + view;
        String marker = "SELECT count(*) FROM " + view + " WHERE __pgt_action = 'T' AND id IS NULL AND a IS NULL AND n IS NULL";
        String current = db.queryString(rows);
        assertThat(db.queryLong(marker)).isEqualTo(1);
        assertThat(current).contains("|I|4|z|-", "|I|7|u|7");  // older batches read NULL for the column added after them

        db.exec(lateralView(view, store, "u.id, u.a COLLATE \"C\" AS a, u.n", "id, a, n"), "GRANT SELECT ON " + view + " TO lat_reader");
        assertThat(db.queryString("SELECT pg_get_viewdef('" + view + "'::regclass)")).containsIgnoringCase("LATERAL unnest(");
        assertThat(db.queryString(rows)).isEqualTo(current);  // the two forms read the same rows

        db.api.install();

        assertThat(db.queryString("SELECT pg_get_viewdef('" + view + "'::regclass)"))
                .doesNotContain("LATERAL").contains(BatchedBuffer.ROW_SOURCE);
        assertThat(db.queryString(rows)).isEqualTo(current);
        assertThat(db.queryLong(marker)).isEqualTo(1);
        assertThat(db.queryString("SELECT has_table_privilege('lat_reader', '" + view + "', 'SELECT')::text")).isEqualTo("true");
        for (String st : List.of("lat_st", "lat_wide")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("REINITIALIZE");  // the TRUNCATE
            db.assertOracle(st);
        }
        db.exec("INSERT INTO lat_src VALUES (8, 't', 8), (9, NULL, NULL)", "UPDATE lat_src SET a = 'z', n = 0 WHERE id = 7");
        for (String st : List.of("lat_st", "lat_wide")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle(st);
        }
        try (Connection conn = db.connect()) {
            conn.setAutoCommit(false);  // as an install runs it: a view it cannot rewrite (another test's) is kept
            assertThat(new ChangeCapture().rewriteOutdatedViews(conn)).isZero();  // nothing left for the next install
            conn.rollback();
        }
        assertThat(db.queryString(rows)).isNull();  // consumed by both, pruned
    }

    @Test
    void columnsNamedLikePlpgsqlVariablesAreCapturedAndOlderFunctionsAreRewrittenByInstall() throws Exception {
        db.exec("CREATE TABLE plvars (id int PRIMARY KEY, found boolean, tg_op text, \"new\" int, \"old\" int)",
                "INSERT INTO plvars VALUES (1, true, 'x', 1, 0)");
        db.api.create(CreateOptions.of("plvars_st", "SELECT id, found, tg_op, \"new\" - \"old\" AS delta FROM plvars"));
        db.exec("UPDATE plvars SET found = NOT found, \"new\" = \"new\" + 5", "INSERT INTO plvars VALUES (2, false, 'y', 3, 1)",
                "DELETE FROM plvars WHERE id = 1");
        assertThat(db.api.refresh("plvars_st").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("plvars_st");

        // A capture function as earlier releases wrote it: writing the source fails ...
        String fn = "pgtrickle_changes.capture_" + db.queryString(
                "SELECT source_stable_name FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'plvars'::regclass");
        String src = db.queryString("SELECT prosrc FROM pg_proc WHERE oid = '" + fn + "'::regproc");
        assertThat(src).startsWith(ChangeCapture.COLUMNS_WIN);
        db.exec("CREATE OR REPLACE FUNCTION " + fn + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
                + "SET search_path = pg_catalog, pg_temp AS " + ChangeCapture.dollarQuote(src.replace(ChangeCapture.COLUMNS_WIN, "")));
        assertThatThrownBy(() -> db.exec("UPDATE plvars SET found = true")).hasMessageContaining("ambiguous");
        // ... until an install rewrites it.
        db.api.install();
        db.exec("UPDATE plvars SET found = true, tg_op = 'z'");
        assertThat(db.api.refresh("plvars_st").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("plvars_st");
    }

    @Test
    void eachStatementWritesItsRowsWithActionAndTransactionId() throws Exception {
        db.exec("CREATE TABLE acct (id int PRIMARY KEY, owner text, balance int, secret text)");
        db.api.create(CreateOptions.of("balances", "SELECT owner, balance FROM acct"));
        db.api.create(CreateOptions.of("keep_acct", "SELECT id FROM acct")); // never refreshed: nothing is pruned
        String buf = buffer("acct");
        // Only referenced columns and the primary key are captured.
        assertThat(db.queryStrings("SELECT attname FROM pg_attribute WHERE attrelid = '" + buf + "'::regclass AND attnum > 0 ORDER BY attnum"))
                .containsExactly("__pgt_xid", "__pgt_action", "id", "owner", "balance");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            st.execute("INSERT INTO acct VALUES (1, 'a', 10, 's'), (2, 'b', 20, 's'), (3, 'c', 30, 's')");
            st.execute("UPDATE acct SET balance = balance + 1 WHERE id <= 2");
            st.execute("DELETE FROM acct WHERE id = 3");
            c.commit();
        }
        assertThat(db.queryStrings("SELECT __pgt_action::text || ':' || id || ':' || balance FROM " + buf))
                .containsExactlyInAnyOrder("I:1:10", "I:2:20", "I:3:30", "D:1:10", "D:2:20", "I:1:11", "I:2:21", "D:3:30");
        assertThat(db.queryLong("SELECT count(DISTINCT __pgt_xid) FROM " + buf)).isEqualTo(1);
        // Stored as one batch per statement and action: INSERT, UPDATE (its D and I), DELETE.
        assertThat(db.queryStrings("SELECT __pgt_action::text || __pgt_n FROM " + store("acct") + " ORDER BY __pgt_n DESC"))
                .containsExactlyInAnyOrder("I3", "D2", "I2", "D1");
        // A second stream table needing another column widens the capture.
        db.api.create(CreateOptions.of("secrets", "SELECT id, secret FROM acct"));
        assertThat(db.queryLong("SELECT count(*) FROM pg_attribute WHERE attrelid = '" + buf + "'::regclass AND attname = 'secret'"))
                .isEqualTo(1);
        db.exec("UPDATE acct SET secret = 'changed'");
        assertThat(db.queryStrings("SELECT DISTINCT secret FROM " + buf + " WHERE __pgt_action = 'I' AND secret IS NOT NULL"))
                .containsExactly("changed");
        db.api.refresh("secrets");
        db.api.refresh("balances");
        db.assertOracle("secrets");
        db.assertOracle("balances");
    }

    @Test
    void truncateMakesTheNextRefreshAReinitialisation() {
        db.exec("CREATE TABLE trunc_src (id int PRIMARY KEY)", "INSERT INTO trunc_src VALUES (1), (2)");
        db.api.create(CreateOptions.of("trunc_st", "SELECT id FROM trunc_src"));
        db.exec("TRUNCATE trunc_src", "INSERT INTO trunc_src VALUES (3)");
        RefreshResult r = db.api.refresh("trunc_st");
        assertThat(r.action()).isEqualTo("REINITIALIZE");
        assertThat(r.reason()).contains("truncated");
        db.assertOracle("trunc_st");
    }

    @Test
    void pausedCaptureMarksEveryDependentForReinitialisation() throws Exception {
        db.exec("CREATE TABLE paused_src (id int PRIMARY KEY, v int)", "INSERT INTO paused_src VALUES (1, 1)");
        db.api.create(CreateOptions.of("paused_a", "SELECT id, v FROM paused_src"));
        db.api.create(CreateOptions.of("paused_b", "SELECT count(*) AS n FROM paused_src"));
        String buf = buffer("paused_src");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET pg_trickle.cdc_paused = true");
            st.execute("INSERT INTO paused_src VALUES (2, 2)");
            st.execute("INSERT INTO paused_src VALUES (3, 3)");
            st.execute("RESET pg_trickle.cdc_paused");
        }
        // No row images while paused: only one marker per transaction.
        assertThat(db.queryStrings("SELECT __pgt_action::text FROM " + buf)).containsExactly("P", "P");
        assertThat(db.api.get("paused_a").needsReinit()).isTrue();
        assertThat(db.api.get("paused_b").needsReinit()).isTrue();
        for (String st : new String[] {"paused_a", "paused_b"}) {
            RefreshResult r = db.api.refresh(st);
            assertThat(r.action()).isEqualTo("REINITIALIZE");
            assertThat(r.reason()).contains("not captured");
            db.assertOracle(st);
            assertThat(db.api.get(st).needsReinit()).isFalse();
        }
    }

    @Test
    void disabledPgTrickleAlsoStopsCaptureSafelyEvenWhenSetForTheDatabase() throws Exception {
        db.exec("CREATE TABLE off_src (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("off_st", "SELECT id FROM off_src"));
        String dbName = db.database.name();
        db.exec("ALTER DATABASE " + dbName + " SET pg_trickle.enabled = false");
        try {
            db.exec("INSERT INTO off_src VALUES (1)"); // a new session sees the database setting
            assertThat(db.queryStrings("SELECT __pgt_action::text FROM " + buffer("off_src"))).containsExactly("P");
        } finally {
            db.exec("ALTER DATABASE " + dbName + " RESET pg_trickle.enabled");
        }
        db.exec("INSERT INTO off_src VALUES (2)");
        assertThat(db.api.refresh("off_st").action()).isEqualTo("REINITIALIZE");
        db.assertOracle("off_st");
    }

    @Test
    void pausingCaptureForTheWholeClusterWithAlterSystemIsSafeToo() throws Exception {
        db.exec("CREATE TABLE sys_src (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("sys_st", "SELECT id FROM sys_src"));
        // PostgreSQL 15/16 accept ALTER SYSTEM for a custom setting only once the session knows it.
        db.exec("SET pg_trickle.cdc_paused = off", "ALTER SYSTEM SET pg_trickle.cdc_paused = on", "SELECT pg_reload_conf()");
        try {
            awaitSetting("on");
            db.exec("INSERT INTO sys_src VALUES (1)");
        } finally {
            db.exec("SET pg_trickle.cdc_paused = off", "ALTER SYSTEM RESET pg_trickle.cdc_paused", "SELECT pg_reload_conf()");
            awaitSetting("off");
        }
        assertThat(db.queryStrings("SELECT __pgt_action::text FROM " + buffer("sys_src"))).containsExactly("P");
        assertThat(db.api.refresh("sys_st").action()).isEqualTo("REINITIALIZE");
        db.assertOracle("sys_st");
    }

    /** A reload reaches sessions asynchronously: wait until a new session sees the value. */
    private static void awaitSetting(String value) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            if (value.equals(db.queryString("SELECT coalesce(nullif(current_setting('pg_trickle.cdc_paused', true), ''), 'off')"))) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("pg_trickle.cdc_paused never became " + value);
    }

    @Test
    void arraysOfAnyShapeAndStatementsOfManyBatchesAreCapturedExactly() throws Exception {
        db.exec("CREATE DOMAIN int_list AS int[]",
                "CREATE TABLE shapes (id int PRIMARY KEY, ints int[], words text[], times timestamptz[], spans interval[], "
                        + "listed int_list, grid float8[])");
        db.api.create(CreateOptions.of("shapes_copy", "SELECT id, ints, words, times, spans, listed, grid FROM shapes"));
        db.api.create(CreateOptions.of("shapes_sizes",
                "SELECT cardinality(ints) AS n, count(*) AS c FROM shapes GROUP BY cardinality(ints)"));
        // Three batches of one statement: 25,000 rows, more than one chunk.
        db.exec("INSERT INTO shapes (id, ints, words) SELECT g, ARRAY[g, g % 7], ARRAY['w' || g] FROM generate_series(10, 25009) g");
        assertThat(db.queryLong("SELECT count(*) FROM " + store("shapes") + " WHERE __pgt_n = 10000")).isEqualTo(2);
        db.api.refresh("shapes_copy");
        db.api.refresh("shapes_sizes");
        db.assertOracle("shapes_copy");
        db.assertOracle("shapes_sizes");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            // Ragged and NULL arrays in one statement, written under output settings unlike the reader's
            // (set for the one statement only: the JDBC driver insists on an ISO DateStyle).
            st.execute("""
                    DO $$ BEGIN
                    PERFORM set_config('DateStyle', 'SQL, DMY', true);
                    PERFORM set_config('IntervalStyle', 'sql_standard', true);
                    PERFORM set_config('extra_float_digits', '0', true);
                    INSERT INTO shapes VALUES
                      (1, '{1,2,3}', '{"a,b","c\\"d",NULL}', '{2026-01-02 03:04:05+00}', '{-1 day +02:00:00}', '{7}',
                       '{{0.1,0.2},{1e-300,3.141592653589793}}'),
                      (2, '{}', '{}', NULL, '{1 mon -3 days}', NULL, '{1.0000000000000002}'),
                      (3, NULL, '{""}', '{infinity,2026-12-31 23:59:59.999999+00}', NULL, '{}', NULL),
                      (4, '[0:1]={5,6}', NULL, '{}', '{}', '{1,NULL}', '{-0}');
                    END $$""");
            st.execute("UPDATE shapes SET ints = ints || 9 WHERE id IN (1, 2)");
        }
        assertThat(db.api.refresh("shapes_copy").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.api.refresh("shapes_sizes").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("shapes_copy");
        db.assertOracle("shapes_sizes");
        assertThat(db.queryString("SELECT ints::text || words::text || spans::text || grid::text FROM shapes_copy WHERE id = 1"))
                .isEqualTo(db.queryString("SELECT ints::text || words::text || spans::text || grid::text FROM shapes WHERE id = 1"));
        db.exec("DELETE FROM shapes WHERE id % 2 = 0 AND id < 100");
        assertThat(db.api.refresh("shapes_copy").action()).isEqualTo("DIFFERENTIAL");
        db.api.refresh("shapes_sizes");
        db.assertOracle("shapes_copy");
        db.assertOracle("shapes_sizes");
    }

    @Test
    void aBufferOfTheRowLayoutIsConvertedByTheNextInstallWithItsPendingChangesAndGrants() {
        db.exec("CREATE TABLE legacy_src (id int PRIMARY KEY, v int, tags text[])",
                "INSERT INTO legacy_src VALUES (1, 10, '{a}'), (2, 20, NULL)",
                // roles are cluster-wide: a database left by an earlier run on the same server may still hold a grant
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'legacy_reader') THEN "
                        + "CREATE ROLE legacy_reader; END IF; END $$");
        db.api.create(CreateOptions.of("legacy_st", "SELECT v, tags, count(*) AS n FROM legacy_src GROUP BY v, tags"));
        String stable = db.queryString("SELECT source_stable_name FROM pgtrickle.pgt_change_tracking "
                + "WHERE source_relid = 'legacy_src'::regclass");
        String table = "pgtrickle_changes.changes_" + stable;
        // The buffer as versions before 6 made it: a table of one row per change, with an order number.
        db.exec("DROP VIEW " + table, "DROP TABLE pgtrickle_changes.batches_" + stable,
                "CREATE TABLE " + table + " (__pgt_change_id bigint GENERATED ALWAYS AS IDENTITY, "
                        + "__pgt_xid xid8 NOT NULL DEFAULT pg_current_xact_id(), __pgt_action \"char\" NOT NULL, id int, v int, tags text[])",
                "GRANT SELECT ON " + table + " TO legacy_reader",
                "CREATE OR REPLACE FUNCTION pgtrickle_changes.capture_" + stable + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        + "IF TG_OP = 'INSERT' THEN INSERT INTO " + table + " (__pgt_action, id, v, tags) SELECT 'I', id, v, tags FROM __pgt_new; "
                        + "ELSIF TG_OP = 'UPDATE' THEN INSERT INTO " + table + " (__pgt_action, id, v, tags) "
                        + "SELECT 'D', id, v, tags FROM __pgt_old UNION ALL SELECT 'I', id, v, tags FROM __pgt_new; "
                        + "ELSIF TG_OP = 'DELETE' THEN INSERT INTO " + table + " (__pgt_action, id, v, tags) SELECT 'D', id, v, tags FROM __pgt_old; "
                        + "END IF; PERFORM pgtrickle._wake('" + stable + "'); RETURN NULL; END $$",
                "UPDATE pgtrickle.pgt_change_tracking SET buffer_store = NULL WHERE source_relid = 'legacy_src'::regclass",
                "INSERT INTO legacy_src VALUES (3, 10, '{a}'), (4, 40, '{b,c}')",
                "UPDATE legacy_src SET v = v + 1 WHERE id IN (1, 4)",
                "DELETE FROM legacy_src WHERE id = 2");
        assertThat(db.queryLong("SELECT count(*) FROM " + table)).isEqualTo(7);

        db.api.install();

        assertThat(db.queryString("SELECT relkind::text FROM pg_class WHERE oid = '" + table + "'::regclass")).isEqualTo("v");
        assertThat(db.queryStrings("SELECT __pgt_action::text || ':' || id || ':' || v || ':' || coalesce(tags::text, '-') FROM " + table))
                .containsExactlyInAnyOrder("I:3:10:{a}", "I:4:40:{b,c}", "D:1:10:{a}", "D:4:40:{b,c}", "I:1:11:{a}",
                        "I:4:41:{b,c}", "D:2:20:-");
        assertThat(db.queryLong("SELECT count(*) FROM " + store("legacy_src"))).isEqualTo(4);
        assertThat(db.queryString("SELECT has_table_privilege('legacy_reader', '" + table + "', 'SELECT')::text")).isEqualTo("true");
        db.api.refresh("legacy_st");
        db.assertOracle("legacy_st");
        // The rewritten capture function writes batches.
        db.exec("UPDATE legacy_src SET tags = '{z}' WHERE v > 10");
        assertThat(db.queryLong("SELECT count(*) FROM " + store("legacy_src"))).isEqualTo(2);
        db.api.refresh("legacy_st");
        db.assertOracle("legacy_st");
    }

    @Test
    void anInstallGivesOlderBufferViewsTheirSourcesCollationsAndKeepsTheirGrants() {
        db.exec("CREATE TABLE coll_src (id int PRIMARY KEY, name text COLLATE \"en-x-icu\", code text COLLATE \"C\")",
                "INSERT INTO coll_src VALUES (1, 'apple', 'apple'), (2, 'Zed', 'Zed')",
                "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'coll_reader') THEN "
                        + "CREATE ROLE coll_reader; END IF; END $$");
        db.api.create(CreateOptions.of("coll_st", "SELECT id, name, code FROM coll_src WHERE name < 'b' OR code < 'b'"));
        String view = buffer("coll_src");
        String collations = "SELECT string_agg(a.attname || ':' || c.collname, ',' ORDER BY a.attname) FROM pg_attribute a"
                + " JOIN pg_collation c ON c.oid = a.attcollation WHERE a.attrelid = '" + view + "'::regclass"
                + " AND a.attname IN ('name', 'code')";
        assertThat(db.queryString(collations)).isEqualTo("code:C,name:en-x-icu");
        // The view as releases before it carried collations made it (the database's default), with a reader.
        String definition = db.queryString("SELECT pg_get_viewdef('" + view + "'::regclass)");
        db.exec("DROP VIEW " + view,
                "CREATE VIEW " + view + " AS " + definition.replace(" COLLATE \"en-x-icu\"", "").replace(" COLLATE \"C\"", ""),
                "GRANT SELECT ON " + view + " TO coll_reader");
        assertThat(db.queryString(collations)).doesNotContain("en-x-icu");
        // Refreshed through that view (rows it kept may be wrong under the database's default collation).
        db.exec("INSERT INTO coll_src VALUES (5, 'Zoe', 'zoe'), (6, 'Abe', 'abe')");
        assertThat(db.api.refresh("coll_st").action()).isEqualTo("DIFFERENTIAL");

        db.api.install();

        assertThat(db.queryString(collations)).isEqualTo("code:C,name:en-x-icu");
        // Rebuilt from the query at its next refresh, whatever that view let in.
        assertThat(db.queryString("SELECT needs_reinit::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'coll_st'"))
                .isEqualTo("true");
        assertThat(db.api.refresh("coll_st").action()).isEqualTo("REINITIALIZE");
        db.assertOracle("coll_st");
        assertThat(db.queryString("SELECT has_table_privilege('coll_reader', '" + view + "', 'SELECT')::text")).isEqualTo("true");
        db.exec("INSERT INTO coll_src VALUES (3, 'Zoe', 'Zoe'), (4, 'aardvark', 'aardvark')", "UPDATE coll_src SET code = 'b' WHERE id = 2");
        assertThat(db.api.refresh("coll_st").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("coll_st");
    }

    @Test
    void compositeColumnsAreStoredAsTextAndAnInstallConvertsBuffersThatStoredThemAsComposites() throws Exception {
        db.exec("CREATE TYPE comp_pair AS (a text, b int)",
                "CREATE TYPE comp_when AS (d date, f float8, i interval)",
                "CREATE DOMAIN comp_when_d AS comp_when", "CREATE DOMAIN comp_when_dd AS comp_when_d",
                "CREATE TABLE comp_src (id int PRIMARY KEY, p comp_pair, n int)",
                "INSERT INTO comp_src VALUES (1, '(x,100)', 1), (2, NULL, 2)",
                "CREATE TABLE comp_nested (id int PRIMARY KEY, w comp_when_dd, n int)",
                "INSERT INTO comp_nested VALUES (1, '(2026-01-02,1.5,\"1 day\")', 1), (2, '(,,)', 2)");
        db.api.create(CreateOptions.of("comp_whole", "SELECT id, p, n FROM comp_src"));
        db.api.create(CreateOptions.of("comp_after", "SELECT id, n FROM comp_src WHERE n < 50"));
        db.api.create(CreateOptions.of("comp_field", "SELECT (p).a AS a, sum(n) AS total FROM comp_src GROUP BY (p).a"));
        db.api.create(CreateOptions.of("comp_nested_st", "SELECT id, w, n FROM comp_nested"));
        db.exec("INSERT INTO comp_src VALUES (3, '(y,200)', 3), (4, '(\"a,b\",7)', 4)", "UPDATE comp_src SET p = '(z,5)' WHERE id = 1",
                "UPDATE comp_src SET n = 60 WHERE id = 2", "DELETE FROM comp_src WHERE id = 3");
        // Written under other output settings than the capture function pins.
        db.exec("SET DateStyle = 'SQL, DMY'; SET IntervalStyle = 'sql_standard'; SET extra_float_digits = -3; "
                + "INSERT INTO comp_nested VALUES (3, '(2026-12-31,0.1,\"2 hours\")', 3); UPDATE comp_nested SET n = 20 WHERE id = 1; "
                + "RESET DateStyle; RESET IntervalStyle; RESET extra_float_digits");
        assertThat(db.api.refresh("comp_nested_st").action()).isEqualTo("DIFFERENTIAL");
        db.assertOracle("comp_nested_st");
        for (String st : List.of("comp_whole", "comp_after", "comp_field")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle(st);
        }

        // A buffer as releases before this one made it: the composite stored as itself, and a view
        // whose unnest() spreads its fields over the columns after it.
        String stable = db.queryString("SELECT source_stable_name FROM pgtrickle.pgt_change_tracking "
                + "WHERE source_relid = 'comp_src'::regclass");
        String store = store("comp_src");
        List<ChangeCapture.SourceColumn> old = List.of(new ChangeCapture.SourceColumn("id", "integer", true, false, null),
                new ChangeCapture.SourceColumn("p", "comp_pair", false, false, null),
                new ChangeCapture.SourceColumn("n", "integer", false, false, null));
        String view = buffer("comp_src");
        db.exec("DROP VIEW " + view, "ALTER TABLE " + store + " ALTER COLUMN p TYPE comp_pair[] USING p::comp_pair[]",
                lateralView(view, store, "u.id, u.p, u.n", "id, p, n"));
        try (Connection conn = db.connect()) {  // no other session meanwhile: tests here count on one
            ChangeCapture.writeFunction(conn, stable, store, old);
        }
        db.exec("INSERT INTO comp_src VALUES (5, '(w,300)', 5)", "UPDATE comp_src SET n = 6 WHERE id = 4");
        assertThat(db.queryLong("SELECT n FROM " + view + " WHERE id = 5")).isEqualTo(300);  // the field, not n

        db.api.install();

        assertThat(db.queryString("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = '" + store
                + "'::regclass AND attname = 'p'")).isEqualTo("text[]");
        assertThat(db.queryLong("SELECT n FROM " + view + " WHERE id = 5")).isEqualTo(5);
        for (String st : List.of("comp_whole", "comp_after", "comp_field")) {
            assertThat(db.queryString("SELECT needs_reinit::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '" + st + "'"))
                    .isEqualTo("true");
            assertThat(db.api.refresh(st).action()).isEqualTo("REINITIALIZE");
            db.assertOracle(st);
        }
        db.exec("INSERT INTO comp_src VALUES (6, '(v,9)', 9)", "DELETE FROM comp_src WHERE id = 5", "UPDATE comp_src SET p = NULL WHERE id = 4");
        for (String st : List.of("comp_whole", "comp_after", "comp_field")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle(st);
        }
    }

    @Test
    void consumedChangesArePrunedOnceEveryReaderHasThem() {
        db.exec("CREATE TABLE shared_src (id int PRIMARY KEY, v int)");
        db.api.create(CreateOptions.of("reader_1", "SELECT id, v FROM shared_src"));
        db.api.create(CreateOptions.of("reader_2", "SELECT sum(v) AS total FROM shared_src"));
        String buf = buffer("shared_src");
        db.exec("INSERT INTO shared_src SELECT g, g FROM generate_series(1, 50) g");
        db.api.refresh("reader_1");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isEqualTo(50);
        db.api.refresh("reader_2");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isZero();
        db.assertOracle("reader_1");
        db.assertOracle("reader_2");
    }

    /**
     * A differential refresh prunes only its own window of the buffer (from the xmin of its previous
     * frontier): the rows deleted before stay in a buffer's index until a vacuum, and a prune from
     * xid 0 visited them all. Rows a prune missed (here: a refresh inside the caller's transaction,
     * which does not prune) lie below that window; a FULL refresh, or one refresh in 16, prunes the
     * whole buffer.
     */
    @Test
    void aRefreshPrunesItsWindowAndAFullOneWhatEarlierPrunesMissed() throws Exception {
        db.exec("CREATE TABLE window_src (id int PRIMARY KEY, v int)");
        db.api.create(CreateOptions.of("window_st", "SELECT id, v FROM window_src WHERE v % 2 = 0"));
        String buf = buffer("window_src");
        db.exec("INSERT INTO window_src SELECT g, g FROM generate_series(1, 40) g");
        inPlace("CALL pgtrickle.refresh_stream_table('window_st')");  // consumed, not pruned
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isEqualTo(40);
        db.assertOracle("window_st");
        // The next differential refreshes prune their own windows, and the missed rows stay; the
        // history ids are chosen so that none of them is the one in 16 that prunes everything.
        int kept = 0;
        for (int i = 1; i <= 3; i++) {
            db.exec("SELECT setval(pg_get_serial_sequence('pgtrickle.pgt_refresh_history', 'refresh_id'), "
                    + "(SELECT min(g) - 1 FROM generate_series(nextval(pg_get_serial_sequence('pgtrickle.pgt_refresh_history', "
                    + "'refresh_id')), 1000000) g WHERE hashint8(g) & 15 <> 0))");
            db.exec("UPDATE window_src SET v = v + 1 WHERE id = " + i);
            assertThat(db.api.refresh("window_st").action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle("window_st");
            assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isEqualTo(40);
        }
        // A refresh whose history id is one of the 16th prunes all that every reader consumed ...
        db.exec("SELECT setval(pg_get_serial_sequence('pgtrickle.pgt_refresh_history', 'refresh_id'), "
                + "(SELECT min(g) - 1 FROM generate_series(nextval(pg_get_serial_sequence('pgtrickle.pgt_refresh_history', "
                + "'refresh_id')), 1000000) g WHERE hashint8(g) & 15 = 0))");
        db.exec("UPDATE window_src SET v = v + 1 WHERE id = 4");
        assertThat(db.api.refresh("window_st").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isZero();
        db.assertOracle("window_st");
        // ... and so does a FULL one (of a source with changes in its window).
        inPlace("UPDATE window_src SET v = v + 1 WHERE id > 30", "CALL pgtrickle.refresh_stream_table('window_st')");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isEqualTo(20);
        db.exec("UPDATE window_src SET v = v + 1 WHERE id = 5");
        assertThat(db.api.refresh("window_st", true).action()).isEqualTo("FULL");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isZero();
        db.assertOracle("window_st");
    }

    /**
     * A store keeps its arrays of fixed-width types of up to 16 bytes uncompressed (pglz cost
     * capture half its time) and the others with the default; a column the buffer gains later too,
     * and an install brings the stores of earlier releases to that form, skipping (not waiting for)
     * one that another transaction holds.
     */
    @Test
    void fixedWidthArraysAreStoredUncompressed() throws Exception {
        db.exec("CREATE TABLE store_src (id bigint PRIMARY KEY, n int, at timestamptz, note text, amount numeric, label name,"
                        + " extra int)",
                "INSERT INTO store_src SELECT g, g, now(), repeat('x', g % 50), g / 3.0, 'l' || g % 7, g FROM generate_series(1, 20000) g",
                "ANALYZE store_src");
        db.api.create(CreateOptions.of("store_st", "SELECT id, n, at, note, amount, label FROM store_src"));
        String store = db.queryString("SELECT buffer_store FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'store_src'::regclass");
        String storage = "SELECT string_agg(attname || '=' || attstorage::text, ' ' ORDER BY attnum) FROM pg_attribute"
                + " WHERE attrelid = '" + store + "'::regclass AND attnum > 0 AND NOT attisdropped";
        String all = "__pgt_xid=p __pgt_action=p __pgt_n=p id=e n=e at=e note=x amount=x label=x";
        assertThat(db.queryString(storage)).isEqualTo(all);

        db.api.create(CreateOptions.of("store_wide", "SELECT id, extra FROM store_src"));  // the buffer gains extra
        assertThat(db.queryString(storage)).isEqualTo(all + " extra=e");

        db.exec("ALTER TABLE " + store + " ALTER COLUMN id SET STORAGE EXTENDED, ALTER COLUMN extra SET STORAGE EXTENDED");
        try (Connection writer = db.connect(); Statement st = writer.createStatement()) {
            st.execute("BEGIN");
            st.execute("INSERT INTO store_src VALUES (30000, 1, now(), 'w', 1, 'w', 1)");  // its capture holds the store
            db.api.install();
            assertThat(db.queryString(storage)).isEqualTo(all.replace("id=e", "id=x") + " extra=x");
            st.execute("COMMIT");
        }
        db.api.install();
        assertThat(db.queryString(storage)).isEqualTo(all + " extra=e");

        // statements of a few hundred rows: arrays above the 2 kB at which PostgreSQL moves a value out of line
        db.exec("INSERT INTO store_src SELECT g, g, now(), repeat('x', g % 50), g / 3.0, 'l', g FROM generate_series(20001, 20400) g",
                "UPDATE store_src SET n = n + 1, note = note || 'y' WHERE id % 50 = 0", "DELETE FROM store_src WHERE id % 97 = 0");
        // out of line and uncompressed (pg_column_compression is NULL for an uncompressed value)
        assertThat(db.queryString("SELECT bool_and(pg_column_compression(b.id) IS NULL AND pg_column_size(b.id) > 2000)::text"
                + " FROM " + store + " b WHERE b.__pgt_n >= 400")).isEqualTo("true");
        for (String st : List.of("store_st", "store_wide")) {
            assertThat(db.api.refresh(st).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle(st);
        }
    }

    /** Runs the statements in one REPEATABLE READ transaction, where a refresh runs in place. */
    private static void inPlace(String... statements) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("BEGIN ISOLATION LEVEL REPEATABLE READ");
            for (String sql : statements) {
                st.execute(sql);
            }
            st.execute("COMMIT");
        }
    }

    /**
     * A refresh prunes the buffers of the sources it consumed changes from, and only those; a
     * reader that stops reading a source (dropped) prunes what the remaining readers consumed.
     */
    @Test
    void aJoinPrunesTheBuffersOfTheSourcesWhoseChangesItConsumed() {
        db.exec("CREATE TABLE pa (id int PRIMARY KEY, k int)", "CREATE TABLE pb (k int PRIMARY KEY, name text)");
        db.api.create(CreateOptions.of("pab", "SELECT pa.id, pb.name FROM pa JOIN pb ON pb.k = pa.k"));
        db.api.create(CreateOptions.of("pb_only", "SELECT k, name FROM pb"));
        String a = buffer("pa");
        String b = buffer("pb");
        // pb's pruning routine, counting its calls (a refresh only makes it when it is missing)
        String prune = db.queryString("SELECT 'pgtrickle_changes.prune_' || source_stable_name FROM pgtrickle.pgt_change_tracking"
                + " WHERE source_relid = 'pb'::regclass");
        db.exec("CREATE TABLE prune_calls (at timestamptz)",
                "CREATE OR REPLACE FUNCTION " + prune + "(p_source_relid oid, p_from xid8) RETURNS bigint LANGUAGE plpgsql AS $$"
                        + " BEGIN INSERT INTO public.prune_calls VALUES (now()); RETURN 0; END $$");
        db.exec("INSERT INTO pb SELECT g, 'n' || g FROM generate_series(1, 10) g",
                "INSERT INTO pa SELECT g, g % 10 + 1 FROM generate_series(1, 30) g");
        db.api.refresh("pab");
        assertThat(db.queryLong("SELECT count(*) FROM prune_calls")).isEqualTo(1);
        assertThat(db.queryLong("SELECT count(*) FROM " + a)).isZero();
        db.exec("UPDATE pa SET k = 1 WHERE id < 5");
        assertThat(db.api.refresh("pab").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.queryLong("SELECT count(*) FROM prune_calls")).isEqualTo(1); // pb unchanged: not pruned for nothing
        assertThat(db.queryLong("SELECT count(*) FROM " + a)).isZero();
        db.assertOracle("pab");

        db.exec("DROP FUNCTION " + prune + "(oid, xid8)");  // the real routine again, made when missing
        db.exec("UPDATE pb SET name = 'm' WHERE k = 1");
        db.api.refresh("pab");
        assertThat(db.queryLong("SELECT count(*) FROM " + b)).isEqualTo(12);  // pb_only has read none of them
        db.api.drop("pb_only", false);
        assertThat(db.queryLong("SELECT count(*) FROM " + b)).isZero();  // pab was the last reader: they go now
        db.exec("UPDATE pa SET k = 2 WHERE id < 3");
        db.api.refresh("pab");
        db.assertOracle("pab");
    }

    /** The change count and pruning run as per-buffer functions (planned once per session); their lifecycle. */
    @Test
    void eachBufferHasCountAndPruneRoutinesThatAreRemadeWhenMissingOrOutdatedAndDroppedWithIt() {
        db.exec("CREATE TABLE routine_src (id int PRIMARY KEY, v int)");
        db.api.create(CreateOptions.of("routine_st", "SELECT id, v FROM routine_src"));
        String stable = db.queryString("SELECT source_stable_name FROM pgtrickle.pgt_change_tracking "
                + "WHERE source_relid = 'routine_src'::regclass");
        String pending = "pgtrickle_changes.pending_" + stable + "(pg_snapshot, pg_snapshot)";
        String prune = "pgtrickle_changes.prune_" + stable + "(oid, xid8)";
        String exists = "SELECT count(*) FROM pg_proc WHERE oid IN (to_regprocedure('" + pending + "'), to_regprocedure('" + prune + "'))";
        assertThat(db.queryLong(exists)).isEqualTo(2);
        String body = db.queryString("SELECT prosrc FROM pg_proc WHERE oid = '" + prune + "'::regprocedure");

        // Gone (dropped by hand): the next refresh makes them again, and counts and prunes as before.
        db.exec("DROP FUNCTION " + pending, "DROP FUNCTION " + prune);
        db.exec("INSERT INTO routine_src SELECT g, g FROM generate_series(1, 20) g");
        RefreshResult r = db.api.refresh("routine_st");
        assertThat(r.action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.queryLong(exists)).isEqualTo(2);
        assertThat(db.queryLong("SELECT count(*) FROM " + buffer("routine_src"))).isZero();
        db.assertOracle("routine_st");

        // Outdated (an earlier release's body, and catalog 11's form without p_from): an install brings
        // it up to date and drops the older form; an up-to-date one is left alone.
        db.exec("CREATE OR REPLACE FUNCTION " + prune.replace("(oid, xid8)", "(p_source_relid oid, p_from xid8)")
                + " RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN 0; END $$");
        String older = prune.replace("(oid, xid8)", "(oid)");
        db.exec("CREATE FUNCTION " + older.replace("(oid)", "(p_source_relid oid)")
                + " RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN RETURN 0; END $$");
        long pendingOid = db.queryLong("SELECT '" + pending + "'::regprocedure::oid::bigint");
        long pendingXmin = db.queryLong("SELECT xmin::text::bigint FROM pg_proc WHERE oid = " + pendingOid);
        db.api.install();
        assertThat(db.queryString("SELECT prosrc FROM pg_proc WHERE oid = '" + prune + "'::regprocedure")).isEqualTo(body);
        assertThat(db.queryString("SELECT to_regprocedure('" + older + "')::text")).isNull();
        assertThat(db.queryLong("SELECT xmin::text::bigint FROM pg_proc WHERE oid = " + pendingOid)).isEqualTo(pendingXmin);
        db.exec("UPDATE routine_src SET v = v + 1 WHERE id <= 5");
        db.api.refresh("routine_st");
        assertThat(db.queryLong("SELECT count(*) FROM " + buffer("routine_src"))).isZero();
        db.assertOracle("routine_st");

        db.api.drop("routine_st", false);
        assertThat(db.queryLong("SELECT count(*) FROM pg_proc WHERE proname IN ('pending_" + stable + "', 'prune_" + stable + "')"))
                .isZero();
    }

    @Test
    void partitionedSourcesAreCapturedWhicheverTableTheStatementNames() {
        db.exec("CREATE TABLE events (id int, day date, v int) PARTITION BY RANGE (day)",
                "CREATE TABLE events_a PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2026-02-01')",
                "CREATE TABLE events_b PARTITION OF events FOR VALUES FROM ('2026-02-01') TO ('2026-03-01')");
        db.api.create(CreateOptions.of("events_by_day", "SELECT day, sum(v) AS total FROM events GROUP BY day"));
        db.api.create(CreateOptions.of("keep_events", "SELECT id FROM events"));
        String buf = buffer("events");
        db.exec("INSERT INTO events VALUES (1, '2026-01-05', 1), (2, '2026-02-05', 2)",
                "INSERT INTO events_b VALUES (3, '2026-02-06', 3)",
                "UPDATE events SET day = '2026-02-10' WHERE id = 1");
        assertThat(db.queryLong("SELECT count(*) FROM " + buf)).isEqualTo(5);
        db.api.refresh("events_by_day");
        db.assertOracle("events_by_day");
    }

    @Test
    void aStreamTableOverAStreamTableReadsTheUpstreamsCapturedChanges() {
        db.exec("CREATE TABLE sales (id int PRIMARY KEY, region text, amount int)",
                "INSERT INTO sales VALUES (1, 'eu', 10), (2, 'us', 20)");
        db.api.create(CreateOptions.of("sales_by_region", "SELECT region, sum(amount) AS total FROM sales GROUP BY region"));
        db.api.create(CreateOptions.of("big_regions", "SELECT region FROM sales_by_region WHERE total > 15"));
        assertThat(db.api.get("big_regions").sources()).extracting(s -> s.name() + ":" + s.type())
                .containsExactly("sales_by_region:STREAM_TABLE");
        db.exec("INSERT INTO sales VALUES (3, 'eu', 10)");
        assertThat(db.api.refresh("big_regions").action()).isEqualTo("NO_DATA"); // upstream not refreshed yet
        db.api.refresh("sales_by_region");
        RefreshResult r = db.api.refresh("big_regions");
        assertThat(r.action()).isEqualTo("DIFFERENTIAL");
        assertThat(r.changeRows()).isEqualTo(2); // the upstream's old and new 'eu' rows
        db.assertOracle("big_regions");

        assertThatThrownBy(() -> db.api.drop("sales_by_region", false))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.DEPENDENT_OBJECTS_EXIST);
                    assertThat(e.getMessage()).contains("big_regions");
                });
        assertThat(db.api.drop("sales_by_region", true)).containsExactly("public.big_regions", "public.sales_by_region");
        assertThat(db.queryString("SELECT to_regclass('big_regions')::text")).isNull();
        assertThat(db.queryLong("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'sales'::regclass AND tgname LIKE 'pgt_%'")).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_change_tracking WHERE source_relid = 'sales'::regclass")).isZero();
    }
}
