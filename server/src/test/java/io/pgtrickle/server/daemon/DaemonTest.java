package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.queryLong;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Daemons in this JVM against a real PostgreSQL: election, wake-ups, graceful stop. */
class DaemonTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);

    private static String freshDatabase(String hint) {
        String url = TestPostgres.newDatabase(hint).jdbcUrl();
        sql(url, "CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src VALUES (1, 10)");
        return url;
    }

    private static Daemon start(String url) throws Exception {
        return Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
    }

    @Test
    void oneOfTwoDaemonsLeadsAndTheOtherTakesOverWhenTheLockSessionDies() throws Exception {
        String url = freshDatabase("daemon_election");
        StreamTables.connect(url).install();
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("100ms"));
        try (Daemon a = start(url); Daemon b = start(url)) {
            assertThat(await(LIMIT, () -> a.leader() || b.leader())).isTrue();
            Daemon leader = a.leader() ? a : b;
            Daemon standby = leader == a ? b : a;
            assertThat(await(Duration.ofSeconds(3), () -> a.leader() && b.leader())).as("never two leaders").isFalse();
            assertThat(standby.leader()).isFalse();

            // The leader's lock connection breaks: it must stop scheduling at once; the standby takes over.
            sql(url, "SELECT pg_terminate_backend(" + leader.lockBackendPid() + ")");
            assertThat(await(LIMIT, () -> standby.leader())).isTrue();
            assertThat(leader.leader()).isFalse();
            assertThat(leader.scheduler()).as("the deposed daemon schedules nothing").isNull();
            assertThat(await(Duration.ofSeconds(3), () -> leader.leader())).as("the lock is taken: it stays standby").isFalse();

            sql(url, "INSERT INTO src VALUES (2, 5)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT s FROM total") == 15)).isTrue();
            assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'SCHEDULER'"))
                    .isPositive();
        }
        assertThat(Testing.daemonSessions(url)).isZero();
        assertThat(Testing.advisoryLocks(url)).isZero();
    }

    @Test
    void aCommitWakesTheLeaderWithoutWaitingForThePoll() throws Exception {
        String url = freshDatabase("daemon_wake");
        StreamTables.connect(url).install();
        // Ten minutes between polls: only the NOTIFY of the capture trigger can make this refresh happen soon.
        sql(url, "ALTER DATABASE " + Testing.databaseName(url) + " SET pg_trickle.scheduler_interval_ms = 600000");
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("100ms"));
        try (Daemon d = start(url)) {
            assertThat(await(LIMIT, () -> d.scheduler() != null && d.scheduler().ticks() > 0)).isTrue();
            assertThat(await(Duration.ofMillis(500), () -> d.scheduler().ticks() > 1)).as("idle: no second tick").isFalse();
            sql(url, "INSERT INTO src VALUES (3, 1)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT s FROM total") == 11)).isTrue();
        }
    }

    @Test
    void stoppingLetsTheRefreshInFlightFinishAndLeavesNothingLocked() throws Exception {
        String url = freshDatabase("daemon_stop");
        StreamTables.connect(url).install();
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("100ms"));
        Daemon d = start(url);
        AtomicReference<Thread> closer = new AtomicReference<>();
        try (Connection blocker = DriverManager.getConnection(url); Statement st = blocker.createStatement()) {
            assertThat(await(LIMIT, d::leader)).isTrue();
            blocker.setAutoCommit(false);
            // Locking the stream table's storage holds the refresh at its apply step; writes to src go on.
            st.execute("LOCK TABLE total IN ACCESS EXCLUSIVE MODE");
            sql(url, "INSERT INTO src VALUES (4, 100)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    + "'pgtrickle scheduler' AND wait_event_type = 'Lock'") == 1)).as("a refresh is in flight").isTrue();

            Thread t = new Thread(d::close, "test-close");
            closer.set(t);
            t.start();
            assertThat(await(Duration.ofSeconds(1), () -> !t.isAlive())).as("close waits for the refresh").isFalse();
            assertThat(d.leader()).isTrue();
            blocker.commit(); // the refresh goes on and completes
        }
        closer.get().join(LIMIT.toMillis());
        assertThat(closer.get().isAlive()).isFalse();
        assertThat(queryLong(url, "SELECT s FROM total")).isEqualTo(110);
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'SCHEDULER' "
                + "AND status = 'COMPLETED' AND rows_inserted > 0")).isEqualTo(1);
        assertThat(Testing.daemonSessions(url)).isZero();
        assertThat(Testing.advisoryLocks(url)).isZero();
    }

    @Test
    void theLeaderPrunesOldHistoryInTheBackground() throws Exception {
        String url = freshDatabase("daemon_prune");
        StreamTables.connect(url).install();
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("1h"));
        sql(url, """
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by)
                SELECT s.pgt_id, now() - interval '30 days', now() - interval '30 days', now() - interval '30 days',
                       'NO_DATA', 'COMPLETED', 'SCHEDULER'
                  FROM pgtrickle.pgt_stream_tables s, generate_series(1, 12000)""");
        try (Daemon d = start(url)) {
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_refresh_history "
                    + "WHERE start_time < now() - interval '7 days'") == 0)).isTrue();
            assertThat(d.leader()).isTrue();
        }
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_refresh_history")).as("the creation's row").isEqualTo(1);
    }
}
