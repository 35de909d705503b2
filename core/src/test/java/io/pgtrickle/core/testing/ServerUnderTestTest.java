package io.pgtrickle.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.embedded.TestPostgres;
import org.junit.jupiter.api.Test;

/**
 * Makes the server the suite ran against explicit: CI sets PGTRICKLE_EXPECT_SERVER_MAJOR when it
 * points the suite at an external PostgreSQL, so a run that silently fell back to the embedded
 * server (or reached another one) fails instead of passing for the wrong reason.
 */
class ServerUnderTestTest {
    @Test
    void theSuiteRunsAgainstTheExpectedServer() {
        Db db = Db.createEmpty(ServerUnderTestTest.class);
        String version = db.database.serverVersion();
        int major = Integer.parseInt(version.split("[.\\s]")[0]);
        assertThat(major).as("supported PostgreSQL versions are 15-18").isBetween(15, 18);
        String expected = System.getenv("PGTRICKLE_EXPECT_SERVER_MAJOR");
        if (expected != null) {
            assertThat(TestPostgres.external()).as("PGTRICKLE_TEST_URL must be set with PGTRICKLE_EXPECT_SERVER_MAJOR").isTrue();
            assertThat(major).isEqualTo(Integer.parseInt(expected));
        } else if (!TestPostgres.external()) {
            assertThat(major).as("the embedded server").isEqualTo(18);
        }
    }
}
