package io.pgtrickle.server.cli;

import static io.pgtrickle.server.cli.CliRun.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.embedded.TestPostgres;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Errors reach the user as "error:"/"hint:" lines on stderr with the documented exit code, never a stack trace. */
class CliErrorsTest {
    private static String url;

    @BeforeAll
    static void database() {
        url = TestPostgres.newDatabase("cli_errors").jdbcUrl();
        CliRun.sql(url, "CREATE TABLE t (id int PRIMARY KEY)");
        assertThat(run("install", "--url", url).exit()).isZero();
    }

    private static void assertNoStackTrace(CliRun r) {
        assertThat(r.err()).doesNotContain("\tat ", "Exception");
    }

    @Test
    void badScheduleIsUsageErrorWithHint() {
        CliRun r = run("create", "--url", url, "bad_schedule", "SELECT id FROM t", "--schedule", "every tuesday");
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).startsWith("error: ").contains("schedule", "(SQLSTATE 22023)").contains("\nhint: ");
        assertNoStackTrace(r);
    }

    @Test
    void verboseShowsStackTrace() {
        CliRun r = run("create", "--url", url, "bad_schedule", "SELECT id FROM t", "--schedule", "nope", "--verbose");
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("PgtException", "\tat ");
    }

    @Test
    void unknownStreamTableIsNotFound() {
        for (String[] args : new String[][] {{"refresh", "nosuch"}, {"drop", "nosuch"}, {"status", "nosuch"},
                {"history", "nosuch"}, {"alter", "nosuch", "--status", "PAUSED"}}) {
            CliRun r = run(concat(args, "--url", url));
            assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.NOT_FOUND);
            assertThat(r.err()).contains("error: ", "nosuch").contains("hint: ");
            assertNoStackTrace(r);
        }
    }

    @Test
    void syntaxErrorInQuery() {
        CliRun r = run("create", "--url", url, "broken", "SELEKT id FROM t");
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).startsWith("error: ").contains("syntax error", "SELEKT id FROM t")
                .containsPattern("(?m)^\\(SQLSTATE 42601\\)$");
        assertNoStackTrace(r);
    }

    @Test
    void invalidModeAndStatusAreUsageErrors() {
        CliRun mode = run("create", "--url", url, "m", "SELECT id FROM t", "--mode", "SOMETIMES");
        assertThat(mode.exit()).as(mode.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(mode.err()).contains("unknown refresh mode", "hint: Use one of AUTO");
        CliRun status = run("alter", "m", "--status", "SUSPENDED", "--url", url);
        assertThat(status.exit()).as(status.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(status.err()).contains("invalid status");
    }

    @Test
    void missingUrl() {
        CliRun r = run("list");
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).startsWith("error: no database: give --url or set PGTRICKLE_URL");
    }

    @Test
    void notAPostgresUrl() {
        CliRun r = run("list", "--url", "jdbc:mysql://localhost/x");
        assertThat(r.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("not a PostgreSQL JDBC URL");
    }

    @Test
    void unreachableServer() {
        CliRun r = run("list", "--url", "jdbc:postgresql://127.0.0.1:1/x");
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.UNAVAILABLE);
        assertThat(r.err()).startsWith("error: ").contains("127.0.0.1:1", "hint: Check that PostgreSQL is running");
        assertNoStackTrace(r);
    }

    @Test
    void missingDatabaseIsUnavailable() {
        String noDb = url.replaceFirst("/[^/?]+(\\?|$)", "/no_such_database_here$1");
        CliRun r = run("list", "--url", noDb);
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.UNAVAILABLE);
    }

    @Test
    void catalogNotInstalled() {
        String fresh = TestPostgres.newDatabase("cli_fresh").jdbcUrl();
        CliRun r = run("list", "--url", fresh);
        assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCode.USAGE);
        assertThat(r.err()).contains("not installed", "hint: Run 'pgtrickle install");
    }

    @Test
    void picocliParameterErrorsAreUsageErrors() {
        CliRun missing = run("create", "--url", url, "only_a_name");
        assertThat(missing.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(missing.err()).startsWith("error: Missing required parameter")
                .contains("Try 'pgtrickle create --help'");
        assertThat(run("list", "--bogus").exit()).isEqualTo(ExitCode.USAGE);
        assertThat(run("frobnicate").exit()).isEqualTo(ExitCode.USAGE);
        assertThat(run("history", "--limit", "0", "--url", url).exit()).isEqualTo(ExitCode.USAGE);
        assertThat(run("create", "--url", url, "unaltered", "SELECT id FROM t").exit()).isZero();
        CliRun nothing = run("alter", "unaltered", "--url", url);
        assertThat(nothing.exit()).isEqualTo(ExitCode.USAGE);
        assertThat(nothing.err()).contains("nothing to alter");
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
