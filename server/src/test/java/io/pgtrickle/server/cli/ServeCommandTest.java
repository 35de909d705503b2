package io.pgtrickle.server.cli;

import static io.pgtrickle.server.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** The command line of serve; the daemon itself is tested in io.pgtrickle.server.daemon. */
class ServeCommandTest {
    @Test
    void helpNamesTheOptionsAndTheLeaderLock() {
        CliRun r = run("serve", "--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("--embedded", "--http-port", "default: 9188", "--http-bind", "default: 127.0.0.1",
                "advisory lock", "1346851916", "docs/DAEMON.md");
    }

    @Test
    void needsADatabase() {
        CliRun r = run("serve");
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("no database: give --url or set PGTRICKLE_URL");
    }

    @Test
    void rejectsBadOptionsBeforeStartingAnything() {
        CliRun both = run("serve", "--embedded", "--url", "jdbc:postgresql://localhost/x");
        assertThat(both.exit()).as(both.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(both.err()).contains("either --url or --embedded");
        CliRun port = run("serve", "--url", "jdbc:postgresql://localhost/x", "--http-port", "70000");
        assertThat(port.exit()).as(port.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(port.err()).contains("--http-port must be 0-65535");
    }

    @Test
    void aTakenPortIsReportedWithAHint() throws Exception {
        String url = io.pgtrickle.embedded.TestPostgres.newDatabase("serve_port").jdbcUrl();
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            CliRun r = run("serve", "--url", url, "--http-port", Integer.toString(taken.getLocalPort()));
            assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
            assertThat(r.err()).contains("cannot listen on 127.0.0.1:" + taken.getLocalPort(), "hint: Choose another port");
        }
    }
}
