package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.queryLong;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.embedded.TestPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The SQL API's compiling procedures against real daemons: a leader and a standby both take
 * requests, each is carried out once, and the stream table created is then kept fresh.
 */
class SqlRequestsTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static String url;
    private static Daemon leader;
    private static Daemon standby;

    @BeforeAll
    static void start() throws Exception {
        url = TestPostgres.newDatabase("daemon_sql_requests").jdbcUrl();
        sql(url, "CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src SELECT g, g FROM generate_series(1, 20) g");
        leader = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
        assertThat(await(LIMIT, leader::leader)).isTrue();
        standby = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
    }

    @AfterAll
    static void stop() {
        standby.close();
        leader.close();
    }

    @Test
    void callsAreCarriedOutOnceAndTheResultIsKeptFresh() throws Exception {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (int i = 0; i < 6; i++) {
                st.execute("CALL pgtrickle.create_stream_table('odd_" + i + "', "
                        + "'SELECT id, v FROM src WHERE id % 2 = 1 AND v > " + i + "', '100ms', 'DIFFERENTIAL')");
            }
            assertThatThrownBy(() -> st.execute("CALL pgtrickle.create_stream_table('odd_0', 'SELECT id FROM src')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("42P07"));
        }
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(6);
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_requests WHERE status = 'DONE'")).isEqualTo(6);
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_requests WHERE status = 'FAILED'")).isEqualTo(1);

        sql(url, "INSERT INTO src VALUES (21, 21)", "DELETE FROM src WHERE id = 3");
        assertThat(await(LIMIT, () -> queryLong(url, "SELECT count(*) FROM odd_0") == 10
                && queryLong(url, "SELECT count(*) FROM odd_5") == 8)).isTrue();
    }
}
