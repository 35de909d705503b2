package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

/**
 * A row's identity does not depend on the session that computes it. Timestamps are hashed through
 * a form of their own (their hash folds to 32 bits), and their text depends on TimeZone and
 * DateStyle: a stream table populated by the engine's connection and then maintained by a writer
 * (IMMEDIATE) or refreshed by hand in another time zone and date style must find its stored rows.
 */
class SessionSettingsIdentityTest {
    private static final String[] QUERIES = {
            "SELECT at, ts, v FROM ev",                                         // a multiset: content hash
            "SELECT at, v FROM ev_by_time",                                     // rows unique by a timestamptz key
            "SELECT at, count(*) AS n, sum(v) AS total FROM ev GROUP BY at",    // a timestamptz group key
            "SELECT DISTINCT ts FROM ev"};                                      // a timestamp as a distinct row

    /**
     * Runs statements under DateStyle 'SQL, DMY' (a psql user's choice), set back before the block
     * ends: pgjdbc refuses to go on when it sees DateStyle change.
     */
    private static String inSqlDateStyle(String statements) {
        return "DO $$ BEGIN PERFORM set_config('DateStyle', 'SQL, DMY', false); " + statements
                + " PERFORM set_config('DateStyle', 'ISO, MDY', false); END $$";
    }

    @Test
    void aWriterOrARefreshInAnotherTimeZoneAndDateStyleFindsTheStoredRows() throws SQLException {
        Db db = Db.create(SessionSettingsIdentityTest.class);
        db.exec("CREATE TABLE ev (id int PRIMARY KEY, at timestamptz, ts timestamp, v int)",
                "INSERT INTO ev SELECT g, timestamptz '2024-03-10 00:30:00+00' + g * interval '20 minutes',"
                        + " timestamp '2024-03-10 00:30:00' + (g % 5) * interval '1 hour', g FROM generate_series(1, 30) g",
                "CREATE TABLE ev_by_time (at timestamptz PRIMARY KEY, v int)",
                "INSERT INTO ev_by_time SELECT at, v FROM ev");
        for (int i = 0; i < QUERIES.length; i++) {
            db.api.create(CreateOptions.of("d" + i, QUERIES[i]).withRefreshMode(RefreshMode.DIFFERENTIAL));
            db.api.create(CreateOptions.of("i" + i, QUERIES[i]).withRefreshMode(RefreshMode.IMMEDIATE));
        }
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET TimeZone = 'Asia/Kolkata'");
            st.execute(inSqlDateStyle("UPDATE ev SET v = v + 100 WHERE id % 3 = 0; DELETE FROM ev WHERE id % 7 = 0;"
                    + " UPDATE ev_by_time SET v = v + 100 WHERE v % 3 = 0; DELETE FROM ev_by_time WHERE v % 7 = 0;"));
            for (int i = 0; i < QUERIES.length; i++) {
                assertThat(Oracle.differences(c, "i" + i)).as("IMMEDIATE %s", QUERIES[i]).isEmpty();
                st.execute(inSqlDateStyle("CALL pgtrickle.refresh_stream_table('d" + i + "');"));  // by hand, in this session
                assertThat(Oracle.differences(c, "d" + i)).as("DIFFERENTIAL %s", QUERIES[i]).isEmpty();
            }
        }
        db.exec("UPDATE ev SET v = v - 1", "UPDATE ev_by_time SET v = v - 1");  // the engine's own session settings again
        for (int i = 0; i < QUERIES.length; i++) {
            assertThat(db.api.refresh("d" + i).action()).isEqualTo("DIFFERENTIAL");
            db.assertOracle("d" + i);
            db.assertOracle("i" + i);
            assertThat(db.api.refresh("d" + i, true).rowsDeleted()).as("FULL after DIFFERENTIAL %s", QUERIES[i])
                    .isZero();  // the same identities: FULL finds every row where the others stored it
        }
    }

    /**
     * Equal intervals print differently ('1 day', '24 hours'; '1 mon', '30 days'), and their text
     * depends on IntervalStyle: as a group key or a distinct row they are one identity, as a row of
     * a multiset different rows; '1 year' and '365 days 6 hours' share an epoch but are unequal.
     */
    @Test
    void equalIntervalsOfOtherTextAreOneGroupInAnyIntervalStyle() throws SQLException {
        Db db = Db.create(SessionSettingsIdentityTest.class);
        boolean infinite = db.queryLong("SELECT current_setting('server_version_num')::int") >= 170000;  // infinite intervals
        db.exec("CREATE TABLE iv (id int PRIMARY KEY, d interval, v int)",
                "INSERT INTO iv VALUES (1, '1 day', 1), (2, '2 days', 2), (3, '1 year', 3), (4, '365 days 6 hours', 4),"
                        + (infinite ? " (5, 'infinity', 5), (6, '-infinity', 6)," : " (5, '5 hours', 5), (6, '-6 hours', 6),")
                        + " (7, '-25:30:00.5', 7)");
        String[] names = {"grouped", "distinct_d", "rows_d", "keyed_d"};
        String[] queries = {"SELECT d, count(*) AS n, sum(v) AS s FROM iv GROUP BY d", "SELECT DISTINCT d FROM iv",
                "SELECT d, v FROM iv", "SELECT id, d FROM iv"};
        for (int i = 0; i < names.length; i++) {
            db.api.create(CreateOptions.of(names[i], queries[i]).withRefreshMode(RefreshMode.DIFFERENTIAL));
            db.api.create(CreateOptions.of(names[i] + "_full", queries[i]).withRefreshMode(RefreshMode.FULL));
            db.api.create(CreateOptions.of(names[i] + "_imm", queries[i]).withRefreshMode(RefreshMode.IMMEDIATE));
        }
        db.exec("INSERT INTO iv VALUES (10, '24 hours', 10), (11, '1 mon', 11), (12, '30 days', 12)",
                "DELETE FROM iv WHERE id = 1", "UPDATE iv SET d = '48 hours' WHERE id = 2");
        checkAll(db, names);
        assertThat(db.queryLong("SELECT n FROM grouped WHERE d = '1 mon'")).isEqualTo(2);  // '1 mon' = '30 days'
        assertThat(db.queryLong("SELECT count(*) FROM grouped")).isEqualTo(8);              // '1 year' <> '365 days 6 hours'
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET IntervalStyle = 'iso_8601'");
            st.execute("UPDATE iv SET v = v + 1");
            st.execute("DELETE FROM iv WHERE id IN (3, 10)");
            for (String name : names) {
                assertThat(Oracle.differences(c, name + "_imm")).as("IMMEDIATE %s", name).isEmpty();
                st.execute("CALL pgtrickle.refresh_stream_table('" + name + "')");
                assertThat(Oracle.differences(c, name)).as("DIFFERENTIAL %s", name).isEmpty();
            }
        }
        db.exec("UPDATE iv SET v = v + 1 WHERE id > 5", "UPDATE iv SET d = '1 mon' WHERE id = 12");
        checkAll(db, names);
    }

    /**
     * Refreshes the DIFFERENTIAL and FULL stream tables; each mode equals the query and they store
     * the same row identities (the value shown for a group of equal intervals may differ).
     */
    private static void checkAll(Db db, String[] names) {
        for (String name : names) {
            db.api.refresh(name);
            db.api.refresh(name + "_full");
            for (String st : new String[] {name, name + "_full", name + "_imm"}) {
                db.assertOracle(st);
            }
            String ids = "SELECT __pgt_row_id::text FROM %s ORDER BY 1";
            assertThat(db.queryStrings(ids.formatted(name))).as(name).isEqualTo(db.queryStrings(ids.formatted(name + "_full")))
                    .isEqualTo(db.queryStrings(ids.formatted(name + "_imm")));
        }
    }
}
