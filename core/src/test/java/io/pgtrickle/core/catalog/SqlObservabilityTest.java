package io.pgtrickle.core.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.schedule.LeaderLock;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;

/**
 * The read-only SQL API of schema pgtrickle (observability.sql): columns, semantics, errors, and
 * that a role without superuser rights can use all of it.
 */
class SqlObservabilityTest {

    /** Result rows as column label → value, in column order. */
    private static List<Map<String, Object>> rows(Connection c, String sql) throws SQLException {
        List<Map<String, Object>> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            ResultSetMetaData md = rs.getMetaData();
            while (rs.next()) {
                Map<String, Object> row = new LinkedHashMap<>();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    row.put(md.getColumnLabel(i), rs.getObject(i));
                }
                out.add(row);
            }
        }
        return out;
    }

    private static List<Map<String, Object>> rows(Db db, String sql) {
        try (Connection c = db.connect()) {
            return rows(c, sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    /** Column label and type name of a query's result, e.g. "staleness interval". */
    private static List<String> columns(Db db, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT * FROM (" + sql + ") q LIMIT 0")) {
            ResultSetMetaData md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add(md.getColumnLabel(i) + " " + md.getColumnTypeName(i));
            }
        }
        return out;
    }

    private static PSQLException failure(Db db, String sql) {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.executeQuery(sql).close();
        } catch (PSQLException e) {
            return e;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        throw new AssertionError("no error from " + sql);
    }

    private static String hint(PSQLException e) {
        return e.getServerErrorMessage() == null ? null : e.getServerErrorMessage().getHint();
    }

    private static long pgtId(Db db, String name) {
        return db.queryLong("SELECT pgt_id FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '" + name + "'");
    }

    private static Map<String, Map<String, Object>> byName(List<Map<String, Object>> rows, String key) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        rows.forEach(r -> out.put((String) r.get(key), r));
        return out;
    }

    @Test
    void pgtStatusListsEveryStreamTable() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src VALUES (1, 10), (2, 20)",
                "CREATE SCHEMA sales");
        db.api.create(CreateOptions.of("every", "SELECT id, v FROM src").withSchedule("5m"));
        db.api.create(CreateOptions.of("calc", "SELECT count(*) AS n FROM src").withRefreshMode(RefreshMode.FULL));
        db.api.create(CreateOptions.of("sales.\"Cron Job\"", "SELECT id FROM src").withSchedule("*/5 * * * *")
                .withInitialize(false));

        assertThat(columns(db, "SELECT * FROM pgtrickle.pgt_status()")).containsExactly(
                "name text", "status text", "refresh_mode text", "is_populated bool", "consecutive_errors int4",
                "schedule text", "data_timestamp timestamptz", "staleness interval", "scc_id int4");
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '2 minutes' WHERE pgt_name = 'every'");
        List<Map<String, Object>> status = rows(db, """
                SELECT name, status, refresh_mode, is_populated, consecutive_errors, schedule, data_timestamp IS NOT NULL AS has_data,
                       staleness >= interval '2 minutes' AS old, scc_id FROM pgtrickle.pgt_status()""");
        assertThat(status).extracting(r -> r.get("name")).containsExactly("public.calc", "public.every", "sales.\"Cron Job\"");
        Map<String, Map<String, Object>> s = byName(status, "name");
        assertThat(s.get("public.every")).containsEntry("status", "ACTIVE").containsEntry("refresh_mode", "DIFFERENTIAL")
                .containsEntry("is_populated", true).containsEntry("consecutive_errors", 0).containsEntry("schedule", "5m")
                .containsEntry("has_data", true).containsEntry("old", true).containsEntry("scc_id", null);
        assertThat(s.get("public.calc")).containsEntry("refresh_mode", "FULL").containsEntry("schedule", "calculated");
        assertThat(s.get("sales.\"Cron Job\"")).containsEntry("schedule", "*/5 * * * *")
                .containsEntry("is_populated", false).containsEntry("has_data", false).containsEntry("old", null);
        // The name reads back through the same resolution as every other function.
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.get_refresh_history('sales.\"Cron Job\"')")).isZero();
    }

    @Test
    void scheduleSecondsReadsTheDurationSyntaxOfSchedule() {
        Db db = Db.create(SqlObservabilityTest.class);
        assertThat(rows(db, """
                SELECT s, pgtrickle._schedule_seconds(s) AS secs
                  FROM unnest(ARRAY['500ms', '30s', '5m', '1h30m', '1m5ms', '2d', '1w', '45', ' 5M ',
                                    '*/5 * * * *', '@hourly', 'calculated', '5x', '', NULL]) AS s"""))
                .extracting(r -> r.get("secs"))
                .containsExactly(0.5, 30.0, 300.0, 5400.0, 60.005, 172800.0, 604800.0, 45.0, 300.0,
                        null, null, null, null, null, null);
    }

    @Test
    void streamTablesInfoIsStaleOnlyWhenOverdueWithWorkPending() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src VALUES (1, 10)");
        db.api.create(CreateOptions.of("every", "SELECT id, v FROM src").withSchedule("30s"));
        db.api.create(CreateOptions.of("calc", "SELECT id FROM src"));
        db.api.create(CreateOptions.of("cron", "SELECT id FROM src").withSchedule("@hourly"));

        List<String> tableColumns = db.queryStrings("""
                SELECT attname FROM pg_attribute WHERE attrelid = 'pgtrickle.pgt_stream_tables'::regclass
                   AND attnum > 0 AND NOT attisdropped ORDER BY attnum""");
        List<String> expected = new ArrayList<>(tableColumns);
        expected.addAll(List.of("staleness", "stale", "is_topk"));
        assertThat(db.queryStrings("""
                SELECT attname FROM pg_attribute WHERE attrelid = 'pgtrickle.stream_tables_info'::regclass
                   AND attnum > 0 AND NOT attisdropped ORDER BY attnum""")).isEqualTo(expected);

        String stale = "SELECT pgt_name, stale, is_topk FROM pgtrickle.stream_tables_info ORDER BY pgt_name";
        assertThat(rows(db, stale)).extracting(r -> r.get("pgt_name") + " " + r.get("stale") + " " + r.get("is_topk"))
                .as("just refreshed").containsExactly("calc null false", "cron null false", "every false false");

        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '1 day'");
        assertThat(rows(db, stale)).extracting(r -> r.get("pgt_name") + " " + r.get("stale"))
                .as("overdue but its sources did not change: current").containsExactly("calc null", "cron null", "every false");

        db.exec("INSERT INTO src VALUES (2, 20)");
        assertThat(rows(db, stale)).extracting(r -> r.get("pgt_name") + " " + r.get("stale"))
                .as("overdue with changes waiting").containsExactly("calc null", "cron null", "every true");
        assertThat(db.queryString("SELECT staleness >= interval '1 day' FROM pgtrickle.stream_tables_info WHERE pgt_name = 'every'"))
                .isEqualTo("t");

        db.api.refresh("every");
        assertThat(db.queryString("SELECT stale FROM pgtrickle.stream_tables_info WHERE pgt_name = 'every'")).isEqualTo("f");

        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '31 seconds', needs_reinit = true"
                + " WHERE pgt_name = 'every'");
        assertThat(db.queryString("SELECT stale FROM pgtrickle.stream_tables_info WHERE pgt_name = 'every'"))
                .as("a pending reinitialisation is work too").isEqualTo("t");
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '29 seconds' WHERE pgt_name = 'every'");
        assertThat(db.queryString("SELECT stale FROM pgtrickle.stream_tables_info WHERE pgt_name = 'every'"))
                .as("within its period").isEqualTo("f");
    }

    @Test
    void theViewFollowsColumnsAddedByALaterMigration() {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("ALTER TABLE pgtrickle.pgt_stream_tables ADD COLUMN added_later text");
        db.api.install();
        assertThat(db.queryStrings("""
                SELECT attname FROM pg_attribute WHERE attrelid = 'pgtrickle.stream_tables_info'::regclass
                   AND attnum > 0 AND NOT attisdropped ORDER BY attnum DESC LIMIT 4"""))
                .containsExactly("is_topk", "stale", "staleness", "added_later");
        db.exec("DROP VIEW pgtrickle.stream_tables_info", "ALTER TABLE pgtrickle.pgt_stream_tables DROP COLUMN added_later");
        db.api.install();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.stream_tables_info")).isZero();
    }

    @Test
    void historyAndTimelineAreNewestFirstAndLimited() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("a", "SELECT id FROM src"));
        db.api.create(CreateOptions.of("b", "SELECT count(*) AS n FROM src"));
        long a = pgtId(db, "a");
        long b = pgtId(db, "b");
        // Hours ago, duration in ms, action, status; two rows of a start at the same moment.
        db.exec("DELETE FROM pgtrickle.pgt_refresh_history", """
                INSERT INTO pgtrickle.pgt_refresh_history
                    (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by, rows_inserted, rows_deleted, error_message)
                SELECT id, t0 - h * interval '1 hour', t0 - h * interval '1 hour',
                       t0 - h * interval '1 hour' + ms * interval '1 millisecond', action, status, 'SCHEDULER', ins, del, msg
                  FROM (SELECT date_trunc('second', now()) AS t0) n,
                       (VALUES (%1$d, 5, 12.5, 'FULL', 'COMPLETED', 3, 0, NULL),
                               (%1$d, 4, 7, 'DIFFERENTIAL', 'FAILED', 0, 0, 'division by zero'),
                               (%2$d, 3, 1, 'NO_DATA', 'COMPLETED', 0, 0, NULL),
                               (%1$d, 2, 250, 'DIFFERENTIAL', 'COMPLETED', 4, 1, NULL),
                               (%1$d, 2, 3, 'NO_DATA', 'COMPLETED', 0, 0, NULL),
                               (%2$d, 1, 40, 'FULL', 'COMPLETED', 1, 1, NULL))
                       AS v(id, h, ms, action, status, ins, del, msg)""".formatted(a, b),
                """
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, action, status, initiated_by)
                VALUES (%d, now(), now(), 'DIFFERENTIAL', 'RUNNING', 'SCHEDULER')""".formatted(a));

        assertThat(columns(db, "SELECT * FROM pgtrickle.get_refresh_history('a')")).containsExactly(
                "refresh_id int8", "data_timestamp timestamptz", "start_time timestamptz", "end_time timestamptz",
                "action text", "status text", "rows_inserted int8", "rows_deleted int8", "duration_ms float8",
                "error_message text");
        List<Map<String, Object>> history = rows(db, "SELECT * FROM pgtrickle.get_refresh_history('public.a')");
        assertThat(history).extracting(r -> r.get("action") + " " + r.get("status") + " " + r.get("duration_ms"))
                .containsExactly("DIFFERENTIAL RUNNING null", "NO_DATA COMPLETED 3.0", "DIFFERENTIAL COMPLETED 250.0",
                        "DIFFERENTIAL FAILED 7.0", "FULL COMPLETED 12.5");
        assertThat((long) history.get(1).get("refresh_id")).as("same start: the later row first")
                .isGreaterThan((long) history.get(2).get("refresh_id"));
        assertThat(history.get(2)).containsEntry("rows_inserted", 4L).containsEntry("rows_deleted", 1L);
        assertThat(history.get(3)).containsEntry("error_message", "division by zero");
        assertThat(rows(db, "SELECT * FROM pgtrickle.get_refresh_history('a', 2)")).hasSize(2);
        assertThat(rows(db, "SELECT * FROM pgtrickle.get_refresh_history('a', 0)")).isEmpty();
        assertThat(rows(db, "SELECT * FROM pgtrickle.get_refresh_history('a', NULL)")).hasSize(5);
        db.exec("""
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by)
                SELECT %d, now(), now() - g * interval '1 day', now() - g * interval '1 day', 'NO_DATA', 'COMPLETED', 'SCHEDULER'
                  FROM generate_series(1, 60) g""".formatted(b));
        assertThat(rows(db, "SELECT * FROM pgtrickle.get_refresh_history('b')")).as("default limit").hasSize(20);

        assertThat(columns(db, "SELECT * FROM pgtrickle.refresh_timeline()")).containsExactly(
                "start_time timestamptz", "stream_table text", "action text", "status text", "rows_inserted int8",
                "rows_deleted int8", "duration_ms float8", "error_message text");
        assertThat(rows(db, "SELECT * FROM pgtrickle.refresh_timeline(4)"))
                .extracting(r -> r.get("stream_table") + " " + r.get("action") + " " + r.get("duration_ms"))
                .containsExactly("public.a DIFFERENTIAL null", "public.b FULL 40.0", "public.a NO_DATA 3.0",
                        "public.a DIFFERENTIAL 250.0");
        assertThat(rows(db, "SELECT * FROM pgtrickle.refresh_timeline()")).as("default limit").hasSize(50);

        PSQLException unknown = failure(db, "SELECT * FROM pgtrickle.get_refresh_history('nope')");
        assertThat(unknown.getSQLState()).isEqualTo("42P01");
        assertThat(unknown.getMessage()).contains("stream table not found: nope");
        PSQLException negative = failure(db, "SELECT * FROM pgtrickle.refresh_timeline(-1)");
        assertThat(negative.getSQLState()).isEqualTo("22023");
        assertThat(hint(negative)).contains("NULL for every row");
    }

    @Test
    void healthCheckHasOneRowPerCheckAndNamesTheStreamTables() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY)", "CREATE TABLE quiet (id int PRIMARY KEY)");
        for (String name : List.of("a", "b", "c", "d")) {
            db.api.create(CreateOptions.of(name, "SELECT id FROM src").withSchedule("1m"));
        }
        db.api.create(CreateOptions.of("e", "SELECT id FROM quiet").withSchedule("1m"));
        String health = "SELECT check_name, severity, detail FROM pgtrickle.health_check()";
        assertThat(columns(db, health)).containsExactly("check_name text", "severity text", "detail text");

        List<Map<String, Object>> initial = rows(db, health);
        assertThat(initial).extracting(r -> r.get("check_name") + " " + r.get("severity")).containsExactly(
                "scheduler_running ERROR", "error_tables OK", "stale_tables OK", "needs_reinit OK",
                "consecutive_errors OK", "buffer_growth OK");
        assertThat((String) initial.get(0).get("detail")).contains("1346851916").contains("pgtrickle serve");

        try (Connection leader = db.connect()) {
            assertThat(LeaderLock.tryAcquire(leader)).isTrue();
            int pid = LeaderLock.holder(leader).orElseThrow();
            Map<String, Object> running = rows(db, health).get(0);
            assertThat(running).containsEntry("severity", "OK");
            assertThat((String) running.get("detail")).contains("pid " + pid);

            db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.enabled = off");
            Map<String, Object> disabled = rows(db, health).get(0);
            assertThat(disabled).containsEntry("severity", "WARN");
            assertThat((String) disabled.get("detail")).contains("pg_trickle.enabled = off");
            db.exec("ALTER DATABASE " + db.database.name() + " RESET pg_trickle.enabled");
            try (Statement st = leader.createStatement()) {
                st.execute("SELECT pg_advisory_unlock(" + LeaderLock.KEY + ")");
            }
        }
        assertThat(rows(db, health).get(0)).as("the leader let go").containsEntry("severity", "ERROR");

        db.exec("UPDATE pgtrickle.pgt_stream_tables SET status = 'ERROR', last_error_message = 'division by zero' WHERE pgt_name = 'a'",
                "UPDATE pgtrickle.pgt_stream_tables SET status = 'SUSPENDED', consecutive_errors = 3 WHERE pgt_name = 'b'",
                "UPDATE pgtrickle.pgt_stream_tables SET consecutive_errors = 2 WHERE pgt_name = 'c'",
                "UPDATE pgtrickle.pgt_stream_tables SET needs_reinit = true, reinit_reason = 'source src altered' WHERE pgt_name = 'd'",
                "UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '2 hours'",
                "INSERT INTO src SELECT g FROM generate_series(1, 10001) g");
        Map<String, Map<String, Object>> checks = byName(rows(db, health), "check_name");
        assertThat(checks.get("error_tables")).containsEntry("severity", "ERROR").containsEntry("detail",
                "2 stream table(s) in ERROR or SUSPENDED (fix the cause, then resume): "
                        + "public.a (ERROR: division by zero), public.b (SUSPENDED)");
        assertThat(checks.get("consecutive_errors")).containsEntry("severity", "WARN").containsEntry("detail",
                "1 stream table(s) failing repeatedly, SUSPENDED after pg_trickle.max_consecutive_errors: public.c (2)");
        assertThat(checks.get("needs_reinit")).containsEntry("severity", "WARN").containsEntry("detail",
                "1 stream table(s) await a full reinitialisation at their next refresh: public.d (source src altered)");
        // a and b are reported as errors; e reads a source that did not change.
        assertThat(checks.get("stale_tables")).containsEntry("severity", "WARN");
        assertThat((String) checks.get("stale_tables").get("detail"))
                .startsWith("2 active stream table(s) behind their schedule with changes pending: public.c (last refresh 02:00:")
                .contains("schedule 1m), public.d (last refresh 02:00:").doesNotContain("public.e");
        assertThat(checks.get("buffer_growth")).containsEntry("severity", "WARN").containsEntry("detail",
                "1 change buffer(s) with more than 10,000 rows waiting: public.src (10001 rows, read by "
                        + "public.a, public.b, public.c, public.d)");
    }

    @Test
    void healthCheckListsAtMostTwentyNames() {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY)");
        for (int i = 10; i < 35; i++) {
            db.api.create(CreateOptions.of("st" + i, "SELECT id FROM src").withInitialize(false));
        }
        db.exec("UPDATE pgtrickle.pgt_stream_tables SET needs_reinit = true");
        assertThat(db.queryString("SELECT detail FROM pgtrickle.health_check() WHERE check_name = 'needs_reinit'"))
                .startsWith("25 stream table(s) await").contains("public.st29, and 5 more").doesNotContain("st30");
    }

    @Test
    void changeBufferSizesIsPerStreamTableAndSource() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY, v int)", "CREATE TABLE other (id int PRIMARY KEY)",
                "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one");
        db.api.create(CreateOptions.of("a", "SELECT id, v FROM src"));
        db.api.create(CreateOptions.of("b", "SELECT s.id FROM src s JOIN other o ON o.id = s.id"));
        db.api.create(CreateOptions.of("m", "SELECT one FROM mv").withRefreshMode(RefreshMode.FULL));
        assertThat(columns(db, "SELECT * FROM pgtrickle.change_buffer_sizes()")).containsExactly(
                "stream_table text", "source_table text", "source_oid int8", "cdc_mode text", "pending_rows int8",
                "buffer_bytes int8");
        db.exec("INSERT INTO src SELECT g, g FROM generate_series(1, 4) g", "UPDATE src SET v = 0 WHERE id = 1",
                "INSERT INTO other VALUES (1)");
        long srcOid = db.queryLong("SELECT 'src'::regclass::oid::bigint");
        String sizes = "SELECT stream_table, source_table, source_oid, cdc_mode, pending_rows, buffer_bytes > 0 AS sized"
                + " FROM pgtrickle.change_buffer_sizes()";
        List<Map<String, Object>> rows = rows(db, sizes);
        assertThat(rows).extracting(r -> r.get("stream_table") + " " + r.get("source_table") + " " + r.get("cdc_mode")
                        + " " + r.get("pending_rows") + " " + r.get("sized"))
                .as("4 inserts + an update (2 rows); the materialized view has no buffer").containsExactly(
                        "public.a public.src trigger 6 true", "public.b public.other trigger 1 true",
                        "public.b public.src trigger 6 true");
        assertThat(rows.get(0)).containsEntry("source_oid", srcOid);

        db.api.refresh("a");
        assertThat(rows(db, sizes)).extracting(r -> r.get("stream_table") + " " + r.get("pending_rows"))
                .as("b has not consumed them yet").containsExactly("public.a 6", "public.b 1", "public.b 6");
        db.api.refresh("b");
        assertThat(rows(db, sizes)).extracting(r -> r.get("stream_table") + " " + r.get("pending_rows"))
                .containsExactly("public.a 0", "public.b 0", "public.b 0");
    }

    @Test
    void explainReturnsTheStoredOutputInEachFormat() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY, g int)");
        db.api.create(CreateOptions.of("per_g", "SELECT g, count(*) AS n FROM src GROUP BY g"));

        String text = db.queryString("SELECT pgtrickle.explain_stream_table('per_g')");
        assertThat(text).isNotBlank().isEqualTo(db.api.explain("per_g", ExplainFormat.TEXT))
                .isEqualTo(db.queryString("SELECT pgtrickle.explain_stream_table('public.per_g', 'text')"));
        assertThat(db.queryString("SELECT pgtrickle.explain_stream_table('per_g', 'json')"))
                .isEqualTo(db.api.explain("per_g", ExplainFormat.JSON))
                .isEqualTo(db.queryString("SELECT pgtrickle.explain_stream_table('per_g', ' JSON ')"))
                .startsWith("{");
        assertThat(db.queryString("SELECT pgtrickle.explain_stream_table('per_g', 'dot')"))
                .isEqualTo(db.api.explain("per_g", ExplainFormat.DOT)).contains("digraph");

        for (String bad : List.of("'xml'", "NULL")) {
            PSQLException e = failure(db, "SELECT pgtrickle.explain_stream_table('per_g', " + bad + ")");
            assertThat(e.getSQLState()).isEqualTo("22023");
            assertThat(e.getMessage()).contains("unknown explain format " + bad);
            assertThat(hint(e)).isEqualTo("Use 'text' (the default), 'json' or 'dot'.");
        }
        PSQLException unknown = failure(db, "SELECT pgtrickle.explain_stream_table('missing')");
        assertThat(unknown.getSQLState()).isEqualTo("42P01");
        assertThat(hint(unknown)).contains("pgt_stream_tables");

        db.exec("UPDATE pgtrickle.pgt_stream_tables SET explain_dot = NULL");
        PSQLException none = failure(db, "SELECT pgtrickle.explain_stream_table('per_g', 'dot')");
        assertThat(none.getSQLState()).isEqualTo("55000");
        assertThat(none.getMessage()).contains("stream table public.per_g has no explain output");
    }

    @Test
    void slaSummaryComputesPercentilesErrorRateAndBudgetOverTheWindow() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        db.exec("CREATE TABLE src (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("busy", "SELECT id FROM src"));
        db.api.create(CreateOptions.of("clean", "SELECT count(*) AS n FROM src"));
        db.api.create(CreateOptions.of("idle", "SELECT id FROM src"));
        db.api.create(CreateOptions.of("never", "SELECT id FROM src").withInitialize(false));
        long busy = pgtId(db, "busy");
        long clean = pgtId(db, "clean");
        // Within 24 hours: busy completes in 10, 20, 30, 40 and 100 ms and fails once; a running and a
        // skipped refresh do not count. 30 hours ago (outside the default window): 5000 ms and 3 failures.
        db.exec("DELETE FROM pgtrickle.pgt_refresh_history", """
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by)
                SELECT id, t, t, t + ms * interval '1 millisecond', action, status, 'SCHEDULER'
                  FROM (SELECT id, now() - h * interval '1 hour' AS t, ms, action, status
                          FROM (VALUES (%1$d, 1, 40, 'DIFFERENTIAL', 'COMPLETED'),
                                       (%1$d, 2, 10, 'NO_DATA', 'COMPLETED'),
                                       (%1$d, 3, 100, 'FULL', 'COMPLETED'),
                                       (%1$d, 4, 30, 'DIFFERENTIAL', 'COMPLETED'),
                                       (%1$d, 5, 20, 'DIFFERENTIAL', 'COMPLETED'),
                                       (%1$d, 6, 900, 'DIFFERENTIAL', 'FAILED'),
                                       (%1$d, 7, 800, 'DIFFERENTIAL', 'SKIPPED'),
                                       (%1$d, 23, 1, 'FULL', 'COMPLETED'),
                                       (%1$d, 30, 5000, 'FULL', 'COMPLETED'),
                                       (%1$d, 30, 5, 'FULL', 'FAILED'),
                                       (%1$d, 31, 5, 'FULL', 'FAILED'),
                                       (%1$d, 32, 5, 'FULL', 'FAILED'),
                                       (%2$d, 2, 8, 'FULL', 'COMPLETED'),
                                       (%2$d, 3, 12, 'FULL', 'COMPLETED')) v(id, h, ms, action, status)) s""".formatted(busy, clean),
                """
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, action, status, initiated_by)
                VALUES (%d, now(), now(), 'FULL', 'RUNNING', 'SCHEDULER')""".formatted(busy));

        assertThat(columns(db, "SELECT * FROM pgtrickle.sla_summary()")).containsExactly(
                "stream_table text", "p50_ms float8", "p99_ms float8", "freshness_lag_s float8", "error_rate float8",
                "error_budget_remaining float8");
        try (Connection c = db.connect()) {
            c.setAutoCommit(false); // one transaction: now() is the same for the UPDATE and the summary
            try (Statement st = c.createStatement()) {
                st.execute("UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '90 seconds'"
                        + " WHERE last_refresh_at IS NOT NULL");
            }
            Map<String, Map<String, Object>> sla = byName(rows(c, "SELECT * FROM pgtrickle.sla_summary()"), "stream_table");
            assertThat(sla.keySet()).containsExactly("public.busy", "public.clean", "public.idle", "public.never");
            Map<String, Object> b = sla.get("public.busy");
            // Completed in the window: 1, 10, 20, 30, 40, 100 ms. p50 interpolates between 20 and 30;
            // p99 sits at 0.99 * 5 = 4.95 positions: 40 + 0.95 * (100 - 40).
            assertThat((double) b.get("p50_ms")).isCloseTo(25.0, within(1e-9));
            assertThat((double) b.get("p99_ms")).isCloseTo(97.0, within(1e-9));
            assertThat((double) b.get("error_rate")).isCloseTo(1.0 / 7, within(1e-12));
            assertThat((double) b.get("error_budget_remaining")).as("1/7 failed against 1%% allowed").isZero();
            assertThat((double) b.get("freshness_lag_s")).isEqualTo(90.0);
            Map<String, Object> cl = sla.get("public.clean");
            assertThat((double) cl.get("p50_ms")).isCloseTo(10.0, within(1e-9));
            assertThat((double) cl.get("p99_ms")).isCloseTo(11.96, within(1e-9));
            assertThat(cl).containsEntry("error_rate", 0.0).containsEntry("error_budget_remaining", 1.0);
            assertThat(sla.get("public.idle")).as("no refresh in the window").containsEntry("p50_ms", null)
                    .containsEntry("p99_ms", null).containsEntry("error_rate", null)
                    .containsEntry("error_budget_remaining", null).containsEntry("freshness_lag_s", 90.0);
            assertThat(sla.get("public.never")).containsEntry("freshness_lag_s", null);

            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL pg_trickle.sla_target = 0.5");
            }
            assertThat((double) byName(rows(c, "SELECT * FROM pgtrickle.sla_summary()"), "stream_table")
                    .get("public.busy").get("error_budget_remaining")).as("1 - (1/7) / 0.5")
                    .isCloseTo(1 - 2.0 / 7, within(1e-12));
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL pg_trickle.sla_window_hours = 48");
            }
            Map<String, Object> wide = byName(rows(c, "SELECT * FROM pgtrickle.sla_summary()"), "stream_table").get("public.busy");
            assertThat((double) wide.get("p50_ms")).as("1 10 20 30 40 100 5000").isCloseTo(30.0, within(1e-9));
            assertThat((double) wide.get("error_rate")).isCloseTo(4.0 / 11, within(1e-12));
            assertThat((double) wide.get("error_budget_remaining")).as("1 - (4/11) / 0.5").isCloseTo(3.0 / 11, within(1e-12));
            try (Statement st = c.createStatement()) {
                st.execute("SET LOCAL pg_trickle.sla_target = 1");
            }
            Map<String, Map<String, Object>> strict = byName(rows(c, "SELECT * FROM pgtrickle.sla_summary()"), "stream_table");
            assertThat(strict.get("public.busy")).containsEntry("error_budget_remaining", 0.0);
            assertThat(strict.get("public.clean")).containsEntry("error_budget_remaining", 1.0);
            c.rollback();
        }

        for (Map.Entry<Setting, String> bad : Map.of(Setting.SLA_TARGET, "1.5", Setting.SLA_WINDOW_HOURS, "a day").entrySet()) {
            String name = bad.getKey().settingName();
            db.exec("ALTER DATABASE " + db.database.name() + " SET " + name + " = '" + bad.getValue() + "'");
            PSQLException e = failure(db, "SELECT * FROM pgtrickle.sla_summary()");
            assertThat(e.getSQLState()).isEqualTo("22023");
            assertThat(e.getMessage()).contains("invalid value for " + name + ": '" + bad.getValue() + "'");
            assertThat(hint(e)).as("the range documented in Setting").startsWith("Allowed: " + bad.getKey().type() + ".");
            db.exec("ALTER DATABASE " + db.database.name() + " RESET " + name);
        }
    }

    @Test
    void aRoleWithoutSuperuserRightsCanUseAllOfIt() throws Exception {
        Db db = Db.create(SqlObservabilityTest.class);
        String reader = "reader_" + db.database.name().substring(0, Math.min(40, db.database.name().length()));
        db.exec("CREATE TABLE src (id int PRIMARY KEY)", "INSERT INTO src VALUES (1)",
                "CREATE ROLE " + reader + " NOLOGIN NOSUPERUSER",
                // Granted by the catalog migration that opens the catalog to readers; repeated here.
                "GRANT USAGE ON SCHEMA pgtrickle TO PUBLIC",
                "GRANT SELECT ON pgtrickle.pgt_stream_tables, pgtrickle.pgt_dependencies, pgtrickle.pgt_refresh_history,"
                        + " pgtrickle.pgt_change_tracking, pgtrickle.pgt_source_frontiers TO PUBLIC");
        db.api.create(CreateOptions.of("st", "SELECT id FROM src").withSchedule("1m"));
        db.exec("INSERT INTO src VALUES (2), (3)",
                "UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '1 hour'");
        String buffer = db.queryString("SELECT buffer_table FROM pgtrickle.pgt_change_tracking");
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("SET ROLE " + reader);
            assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM " + buffer).close())
                    .as("the buffers stay closed").isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).isEqualTo("42501"));
            assertThat(rows(c, "SELECT name FROM pgtrickle.pgt_status()")).hasSize(1);
            assertThat(rows(c, "SELECT stale FROM pgtrickle.stream_tables_info")).containsExactly(Map.of("stale", true));
            assertThat(rows(c, "SELECT pending_rows FROM pgtrickle.change_buffer_sizes()"))
                    .containsExactly(Map.of("pending_rows", 2L));
            assertThat(rows(c, "SELECT severity FROM pgtrickle.health_check() WHERE check_name = 'stale_tables'"))
                    .containsExactly(Map.of("severity", "WARN"));
            assertThat(rows(c, "SELECT * FROM pgtrickle.get_refresh_history('st')")).hasSize(1);
            assertThat(rows(c, "SELECT * FROM pgtrickle.refresh_timeline()")).hasSize(1);
            assertThat(rows(c, "SELECT pgtrickle.explain_stream_table('st') IS NOT NULL AS ok"))
                    .containsExactly(Map.of("ok", true));
            assertThat(rows(c, "SELECT stream_table FROM pgtrickle.sla_summary()"))
                    .containsExactly(Map.of("stream_table", "public.st"));
        }
    }

    @Test
    void securityDefinerRoutinesPinTheirSearchPath() {
        Db db = Db.create(SqlObservabilityTest.class);
        assertThat(db.queryStrings("""
                SELECT p.proname FROM pg_proc p
                 WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.prosecdef
                   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)"""))
                .as("SECURITY DEFINER without SET search_path = pg_catalog, pg_temp").isEmpty();
        assertThat(db.queryStrings("""
                SELECT p.proname FROM pg_proc p
                 WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.prosecdef ORDER BY 1"""))
                .contains("_has_pending_work", "change_buffer_sizes");
    }
}
