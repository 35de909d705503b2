package io.pgtrickle.server.cli;

import static io.pgtrickle.server.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Help and version need no database. */
class CliHelpTest {

    @Test
    void helpListsEveryCommand() {
        CliRun r = run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("serve", "install", "create", "alter", "resume", "drop", "refresh", "list", "status",
                "history", "Exit codes:", "PGTRICKLE_URL");
    }

    @Test
    void everyCommandHasHelpWithSharedOptions() {
        for (String cmd : new String[] {"serve", "install", "create", "alter", "resume", "drop", "refresh", "list", "status",
                "history"}) {
            CliRun r = run(cmd, "--help");
            assertThat(r.exit()).as(cmd).isZero();
            assertThat(r.out()).as(cmd).contains("--url", "--json", "--verbose", "--help");
        }
    }

    @Test
    void version() {
        CliRun r = run("--version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("pgtrickle ").contains("catalog version ");
    }

    @Test
    void noCommandIsUsageError() {
        CliRun r = run();
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("missing command", "Usage:");
        assertThat(r.out()).isEmpty();
    }
}
