package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.queryLong;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.TestPostgres;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pgtrickle serve} as a real separate JVM (the test classpath, main class Main): killed with
 * SIGKILL, a standby takes over within 5 s; stopped with SIGTERM, it finishes its refresh first.
 */
class ServeProcessTest {
    private static final Duration LIMIT = Duration.ofSeconds(30);
    private static final Pattern HTTP_LINE = Pattern.compile("http://127\\.0\\.0\\.1:(\\d+)/");
    private final List<Process> started = new CopyOnWriteArrayList<>();

    /** A `pgtrickle serve` process and what it printed. */
    record Serve(Process process, int httpPort, List<String> output) {
    }

    @AfterEach
    void killLeftovers() {
        started.forEach(Process::destroyForcibly);
    }

    private Serve serve(String url) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "io.pgtrickle.server.cli.Main", "serve", "--url", url, "--http-port", "0");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        started.add(p);
        List<String> output = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> port = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = in.readLine(); line != null; line = in.readLine()) {
                    output.add(line);
                    Matcher m = HTTP_LINE.matcher(line);
                    if (m.find()) {
                        port.complete(Integer.parseInt(m.group(1)));
                    }
                }
            } catch (java.io.IOException ignored) {
                // the process was killed
            }
            port.completeExceptionally(new IllegalStateException("serve ended before HTTP was up: " + output));
        }, "serve-output");
        reader.setDaemon(true);
        reader.start();
        return new Serve(p, port.get(LIMIT.toSeconds(), TimeUnit.SECONDS), output);
    }

    private static boolean leads(Serve s) {
        try {
            return Testing.get(s.httpPort(), "/health").body().contains("\"role\":\"leader\"");
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static String database(String hint) {
        String url = TestPostgres.newDatabase(hint).jdbcUrl();
        sql(url, "CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src VALUES (1, 10)");
        return url;
    }

    @Test
    void aStandbyTakesOverWithinFiveSecondsWhenTheLeaderIsKilled() throws Exception {
        String url = database("serve_kill");
        Serve first = serve(url); // installs the catalog
        assertThat(await(LIMIT, () -> leads(first))).as(String.join("\n", first.output())).isTrue();
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("100ms"));

        try (Daemon standby = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0))) {
            assertThat(await(Duration.ofSeconds(2), standby::leader)).as("the process leads").isFalse();
            sql(url, "INSERT INTO src VALUES (2, 1)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT s FROM total") == 11)).as("the process refreshes").isTrue();

            first.process().destroyForcibly(); // kill -9: no shutdown hook, the server ends its sessions
            long killedAt = System.nanoTime();
            assertThat(first.process().waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
            assertThat(await(Duration.ofSeconds(5).minusNanos(System.nanoTime() - killedAt), standby::leader))
                    .as("the standby leads within 5 s of the kill").isTrue();

            sql(url, "INSERT INTO src VALUES (3, 100)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT s FROM total") == 111)).isTrue();
            assertThat(queryLong(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgtrickle leader'"))
                    .as("only the standby's lock session is left").isEqualTo(1);
        }
    }

    @Test
    void sigtermLetsTheRefreshInFlightFinishThenReleasesEverything() throws Exception {
        String url = database("serve_term");
        Serve s = serve(url);
        assertThat(await(LIMIT, () -> leads(s))).as(String.join("\n", s.output())).isTrue();
        StreamTables.connect(url).create(CreateOptions.of("total", "SELECT sum(v) AS s FROM src").withSchedule("100ms"));
        try (Connection blocker = DriverManager.getConnection(url); Statement st = blocker.createStatement()) {
            blocker.setAutoCommit(false);
            st.execute("LOCK TABLE total IN ACCESS EXCLUSIVE MODE"); // holds the refresh at its apply step
            sql(url, "INSERT INTO src VALUES (2, 5)");
            assertThat(await(LIMIT, () -> queryLong(url, "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    + "'pgtrickle scheduler' AND wait_event_type = 'Lock'") == 1)).as("a refresh is in flight").isTrue();

            s.process().destroy(); // SIGTERM
            assertThat(s.process().waitFor(1, TimeUnit.SECONDS)).as("it waits for the refresh").isFalse();
            blocker.commit();
        }
        assertThat(s.process().waitFor(LIMIT.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(s.process().exitValue()).as("ended by SIGTERM after its shutdown hook").isEqualTo(143);
        assertThat(queryLong(url, "SELECT s FROM total")).isEqualTo(15);
        assertThat(queryLong(url, "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'SCHEDULER' "
                + "AND status = 'COMPLETED' AND rows_inserted > 0")).isEqualTo(1);
        assertThat(Testing.daemonSessions(url)).isZero();
        assertThat(Testing.advisoryLocks(url)).isZero();
    }
}
