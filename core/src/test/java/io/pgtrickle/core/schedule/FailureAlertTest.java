package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Failures by SQLSTATE: transient ones are retried with backoff and, when they count, suspend the
 * stream table after pg_trickle.max_consecutive_errors with an alert on pgtrickle_alert; others
 * set ERROR at once. The error messages here are chosen to mislead any decision made from text.
 */
class FailureAlertTest {
    private Db db;
    private Scheduler scheduler;
    private Connection listener;
    private Instant now;
    private final List<String> failures = new ArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        db = Db.create(FailureAlertTest.class);
        // fail(): raises with the SQLSTATE and message in the control table; STABLE so the query is accepted.
        db.exec("CREATE TABLE control (code text, msg text)",
                "CREATE TABLE src (id int PRIMARY KEY)",
                "INSERT INTO src VALUES (1)",
                """
                CREATE FUNCTION fail(x int) RETURNS int LANGUAGE plpgsql STABLE AS $$
                DECLARE c record;
                BEGIN
                    SELECT * INTO c FROM control LIMIT 1;
                    IF FOUND THEN
                        RAISE EXCEPTION USING ERRCODE = c.code, MESSAGE = c.msg;
                    END IF;
                    RETURN x;
                END $$""",
                "ALTER DATABASE " + db.database.name() + " SET pg_trickle.max_consecutive_errors = 2");
        db.api.create(CreateOptions.of("guarded", "SELECT fail(id) AS id FROM src").withSchedule("1s")
                .withRefreshMode(RefreshMode.FULL));
        now = Instant.now().plusSeconds(3600);
        scheduler = new Scheduler(() -> DriverManager.getConnection(db.url()), () -> now, new RefreshListener() {
            @Override
            public void refreshed(RefreshResult result) {
            }

            @Override
            public void failed(String streamTable, PgtException error) {
                failures.add(error.sqlState());
            }
        }, Scheduler.TICK, () -> 0L);
        listener = db.connect();
        try (Statement st = listener.createStatement()) {
            st.execute("LISTEN pgtrickle_alert");
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        scheduler.close();
        listener.close();
    }

    private void failWith(String sqlState, String message) {
        db.exec("DELETE FROM control", "INSERT INTO control VALUES ('" + sqlState + "', '" + message + "')");
        db.exec("INSERT INTO src SELECT coalesce(max(id), 0) + 1 FROM src"); // work for the scheduler
    }

    /** Alerts received within {@code millis}, each JSON payload as its top-level fields (parsed by PostgreSQL). */
    private List<Map<String, String>> alerts(int millis) throws Exception {
        List<Map<String, String>> out = new ArrayList<>();
        PGNotification[] batch = listener.unwrap(PGConnection.class).getNotifications(millis);
        for (PGNotification n : batch == null ? new PGNotification[0] : batch) {
            Map<String, String> fields = new TreeMap<>();
            try (PreparedStatement ps = listener.prepareStatement("SELECT key, value FROM jsonb_each_text(?::jsonb)")) {
                ps.setString(1, n.getParameter());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        fields.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            out.add(fields);
        }
        return out;
    }

    @Test
    void transientFailuresBackOffThenSuspendWithOneAlert() throws Exception {
        failWith("57014", "Abfrage wurde abgebrochen"); // statement timeout, message in German
        assertThat(scheduler.tick()).isEmpty();
        assertThat(failures).containsExactly("57014");
        assertThat(db.api.get("guarded").status()).isEqualTo(Status.ACTIVE);
        assertThat(scheduler.nextDue()).as("retry after 0.75 s (1 s less the fixed jitter)").contains(now.plusMillis(750));

        now = now.plusMillis(500);
        assertThat(scheduler.tick()).isEmpty();
        assertThat(failures).as("backing off: no attempt yet").hasSize(1);
        assertThat(alerts(200)).isEmpty();

        now = now.plusMillis(300);
        scheduler.tick();
        assertThat(failures).containsExactly("57014", "57014");
        assertThat(db.api.get("guarded").status()).isEqualTo(Status.SUSPENDED);
        List<Map<String, String>> alerts = alerts(10_000);
        assertThat(alerts).hasSize(1);
        Map<String, String> a = alerts.get(0);
        assertThat(a.get("event")).isEqualTo("auto_suspended");
        assertThat(a.get("st")).isEqualTo("public.guarded");
        assertThat(a.get("pgt_name")).isEqualTo("guarded");
        assertThat(a.get("sqlstate")).isEqualTo("57014");
        assertThat(a.get("consecutive_errors")).isEqualTo("2");
        assertThat(a.get("retryable")).isEqualTo("true");

        now = now.plus(Duration.ofMinutes(5));
        assertThat(scheduler.tick()).isEmpty();
        assertThat(failures).as("a suspended stream table is left alone").hasSize(2);
    }

    @Test
    void aDeadlockWithAnUnfamiliarMessageIsRetriedAndDoesNotCount() throws Exception {
        failWith("40P01", "Verklemmung entdeckt");
        for (int i = 0; i < 4; i++) {
            scheduler.tick();
            now = now.plusSeconds(60);
        }
        assertThat(failures).containsExactly("40P01", "40P01", "40P01", "40P01");
        assertThat(db.api.get("guarded").status()).as("busy, not broken").isEqualTo(Status.ACTIVE);
        assertThat(db.api.get("guarded").consecutiveErrors()).isZero();
        assertThat(alerts(200)).isEmpty();

        db.exec("DELETE FROM control");
        assertThat(scheduler.tick()).extracting(RefreshResult::action).containsExactly("FULL");
        db.assertOracle("guarded");
    }

    @Test
    void anErrorThatReadsLikeADeadlockButIsNotOneStopsAtOnce() throws Exception {
        failWith("22012", "deadlock detected; could not obtain lock; connection lost; serialization failure");
        scheduler.tick();
        assertThat(failures).containsExactly("22012");
        assertThat(db.api.get("guarded").status()).isEqualTo(Status.ERROR);
        assertThat(scheduler.nextDue()).as("no retry is planned").isEmpty();
        Map<String, String> a = alerts(10_000).get(0);
        assertThat(a.get("event")).isEqualTo("refresh_failed");
        assertThat(a.get("status")).isEqualTo("ERROR");
        assertThat(a.get("retryable")).isEqualTo("false");
        assertThat(a.get("message")).startsWith("deadlock detected");
    }
}
