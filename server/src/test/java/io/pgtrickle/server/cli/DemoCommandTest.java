package io.pgtrickle.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The README's first command, end to end on its own embedded PostgreSQL. */
class DemoCommandTest {
    @Test
    void theDemoRunsRefreshesLiveAndEndsConsistent() {
        CliRun r = CliRun.run("demo", "--duration", "4", "--rate", "40", "--plain");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("[5/5]").contains("public.revenue_by_region")
                .contains("every stream table equals its defining query");
        // Refreshes were shown as they happened, by the scheduler, not only the final one.
        assertThat(r.out().lines().filter(l -> l.matches("\\d\\d:\\d\\d:\\d\\d  public\\..*")).count()).isPositive();
    }

    @Test
    void badOptionsAreUsageErrors() {
        CliRun r = CliRun.run("demo", "--duration", "0");
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("--duration");
    }
}
