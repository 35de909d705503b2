package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A reused session is the same server process, in the state a new session would be in. */
class ReusedSessionsTest {

    @Test
    void aClosedSessionIsHandedOutAgainReset() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        int pid;
        try (Connection c = ReusedSessions.connect(db.jdbcUrl()); Statement st = c.createStatement()) {
            pid = backendPid(c);
            st.execute("CREATE ROLE " + db.name()); // roles are global: named after the unique database
            st.execute("SET work_mem = '7MB'");
            st.execute("CREATE TEMP TABLE scratch (x int)");
            st.execute("LISTEN reused_channel");
            st.execute("SELECT pg_advisory_lock(4242)");
            st.execute("SET ROLE " + db.name());
            c.setReadOnly(true);
            c.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
            c.setAutoCommit(false);
            st.execute("SET LOCAL statement_timeout = '5s'");
        }
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            assertThat(backendPid(c)).as("the same server process").isEqualTo(pid);
            assertThat(c.getAutoCommit()).isTrue();
            assertThat(c.isReadOnly()).isFalse();
            assertThat(text(c, "SHOW work_mem")).isEqualTo("4MB");
            assertThat(text(c, "SHOW transaction_isolation")).isEqualTo("read committed");
            assertThat(text(c, "SELECT current_user = session_user")).isEqualTo("t");
            assertThat(text(c, "SELECT to_regclass('pg_temp.scratch') IS NULL")).isEqualTo("t");
            assertThat(text(c, "SELECT count(*) FROM pg_listening_channels()")).isEqualTo("0");
            assertThat(text(c, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"))
                    .isEqualTo("0");
        }
    }

    @Test
    void anOpenTransactionIsRolledBack() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        try (Connection c = ReusedSessions.connect(db.jdbcUrl()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE t (x int)");
            c.setAutoCommit(false);
            st.execute("INSERT INTO t VALUES (1)");
        }
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            assertThat(text(c, "SELECT count(*) FROM t")).isEqualTo("0");
        }
    }

    @Test
    void aSessionStartedBeforeADatabaseSettingChangedIsNotReused() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        int pid;
        try (Connection c = ReusedSessions.connect(db.jdbcUrl()); Statement st = c.createStatement()) {
            pid = backendPid(c);
            st.execute("ALTER DATABASE " + db.name() + " SET work_mem = '9MB'");
        }
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            assertThat(backendPid(c)).isNotEqualTo(pid);
            assertThat(text(c, "SHOW work_mem")).as("the new setting, read at session start").isEqualTo("9MB");
            pid = backendPid(c);
        }
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            assertThat(backendPid(c)).as("unchanged since: reused").isEqualTo(pid);
        }
    }

    /** Found by ChangeCaptureTest: an idle session from before the change was handed out with the old settings. */
    @Test
    void anIdleSessionFromBeforeADatabaseSettingChangedIsNotReusedEither() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        int idle;
        try (Connection a = ReusedSessions.connect(db.jdbcUrl()); Connection b = ReusedSessions.connect(db.jdbcUrl())) {
            idle = backendPid(b);
            b.close();  // idle while a changes the setting
            try (Statement st = a.createStatement()) {
                st.execute("ALTER DATABASE " + db.name() + " SET work_mem = '9MB'");
            }
        }
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            assertThat(backendPid(c)).isNotEqualTo(idle);
            assertThat(text(c, "SHOW work_mem")).isEqualTo("9MB");
        }
    }

    @Test
    void aTerminatedSessionIsNotReused() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        int pid;
        try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
            pid = backendPid(c);
            try (Connection other = ReusedSessions.connect(db.jdbcUrl()); Statement st = other.createStatement()) {
                st.execute("SELECT pg_terminate_backend(" + pid + ")");
            }
            assertThatThrownBy(() -> text(c, "SELECT 1")).isInstanceOf(SQLException.class);
        }
        for (int i = 0; i < 3; i++) {
            try (Connection c = ReusedSessions.connect(db.jdbcUrl())) {
                assertThat(text(c, "SELECT 1")).isEqualTo("1");
                assertThat(backendPid(c)).isNotEqualTo(pid);
            }
        }
    }

    @Test
    void sessionsInUseAreDistinctAndIdleOnesAreCapped() throws Exception {
        TestDatabase db = TestPostgres.newDatabase("reused");
        ReusedSessions.closeIdle();
        List<Connection> open = new ArrayList<>();
        for (int i = 0; i < ReusedSessions.MAX_IDLE + 3; i++) {
            open.add(ReusedSessions.connect(db.jdbcUrl()));
        }
        assertThat(open.stream().mapToInt(ReusedSessionsTest::backendPid).distinct().count())
                .isEqualTo(ReusedSessions.MAX_IDLE + 3);
        for (Connection c : open) {
            c.close();
            assertThat(c.isClosed()).isTrue();
        }
        assertThatThrownBy(() -> open.get(0).createStatement()).isInstanceOf(SQLException.class);
        try (Connection admin = ReusedSessions.connect(TestPostgres.adminUrl())) {
            String sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + db.name() + "'";
            long deadline = System.nanoTime() + 10_000_000_000L; // a closed session's process takes a moment to exit
            while (!text(admin, sessions).equals(String.valueOf(ReusedSessions.MAX_IDLE)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(text(admin, sessions)).as("idle sessions kept, the least recently returned closed")
                    .isEqualTo(String.valueOf(ReusedSessions.MAX_IDLE));
        }
    }

    private static int backendPid(Connection c) {
        try {
            return Integer.parseInt(text(c, "SELECT pg_backend_pid()"));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String text(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }
}
