package io.pgtrickle.server.cli;

import static io.pgtrickle.server.cli.CliRun.run;
import static io.pgtrickle.server.cli.CliRun.sql;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgtrickle.embedded.TestPostgres;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The commands against a real PostgreSQL; one database for the class, one stream table name per test. */
class CliCommandsTest {
    private static String url;

    @BeforeAll
    static void database() {
        url = TestPostgres.newDatabase("cli").jdbcUrl();
        sql(url, "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount int NOT NULL)",
                "INSERT INTO orders VALUES (1, 'ann', 10), (2, 'bob', 20), (3, 'ann', 5)");
        CliRun r = run("install", "--url", url);
        assertThat(r.exit()).as(r.toString()).isZero();
    }

    private static final String BY_CUSTOMER = "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer";

    @Test
    void installIsIdempotent() {
        String fresh = TestPostgres.newDatabase("cli_install").jdbcUrl();
        CliRun first = run("install", "--url", fresh);
        assertThat(first.exit()).as(first.toString()).isZero();
        assertThat(first.out()).matches("catalog version \\d+ installed \\(was 0\\)\\R");
        CliRun again = run("install", "--url", fresh);
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.out()).matches("already at version \\d+\\R");
        JsonNode json = run("install", "--url", fresh, "--json").json();
        assertThat(json.get("changed").asBoolean()).isFalse();
        assertThat(json.get("to_version").asInt()).isEqualTo(json.get("from_version").asInt()).isPositive();
    }

    @Test
    void createThenListStatusHistory() {
        CliRun created = run("create", "--url", url, "by_customer", BY_CUSTOMER, "--schedule", "5m");
        assertThat(created.exit()).as(created.toString()).isZero();
        assertThat(created.out()).startsWith("created stream table public.by_customer (mode DIFFERENTIAL, schedule 5m");

        CliRun list = run("list", "--url", url);
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out().lines().findFirst().orElseThrow())
                .matches("NAME +MODE +SCHEDULE +STATUS +POPULATED +LAST REFRESH");
        assertThat(list.out()).containsPattern("public\\.by_customer +DIFFERENTIAL +5m +ACTIVE +yes +\\d{4}-\\d\\d-\\d\\dT");

        CliRun status = run("status", "--url", url);
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.out()).contains("ERRORS", "NEEDS REINIT", "LAST ERROR", "public.by_customer");

        CliRun one = run("status", "by_customer", "--url", url);
        assertThat(one.exit()).as(one.toString()).isZero();
        assertThat(one.out()).containsPattern("(?m)^rows: +2$").containsPattern("(?m)^sources: +public\\.orders")
                .contains("query:", "GROUP BY customer");

        CliRun history = run("history", "by_customer", "--url", url);
        assertThat(history.exit()).as(history.toString()).isZero();
        assertThat(history.out()).contains("REFRESH_ID", "public.by_customer", "+ROWS");
    }

    @Test
    void jsonOutputIsOneDocumentWithSnakeCaseFields() {
        assertThat(run("create", "--url", url, "json_st", BY_CUSTOMER, "--mode", "full", "--json").exit()).isZero();

        JsonNode list = run("list", "--url", url, "--json").json();
        JsonNode st = null;
        for (JsonNode n : list.get("stream_tables")) {
            if (n.get("name").asText().equals("public.json_st")) {
                st = n;
            }
        }
        assertThat(st).isNotNull();
        assertThat(st.get("refresh_mode").asText()).isEqualTo("FULL");
        assertThat(st.get("populated").asBoolean()).isTrue();
        assertThat(st.get("last_refresh_at").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*(Z|[+-]\\d\\d:\\d\\d)");
        assertThat(st.has("row_count")).isFalse();

        JsonNode one = run("status", "json_st", "--url", url, "--json").json();
        assertThat(one.get("row_count").asLong()).isEqualTo(2);
        assertThat(one.get("sources").get(0).get("name").asText()).isEqualTo("orders");

        JsonNode refresh = run("refresh", "json_st", "--url", url, "--json").json();
        assertThat(refresh.get("stream_table").asText()).isEqualTo("public.json_st");
        assertThat(refresh.has("duration_ms")).isTrue();

        JsonNode history = run("history", "json_st", "--limit", "1", "--url", url, "--json").json();
        assertThat(history.get("refreshes")).hasSize(1);
        assertThat(history.get("refreshes").get(0).get("refresh_id").asLong())
                .isEqualTo(refresh.get("refresh_id").asLong());
    }

    @Test
    void refreshReportsWhatItDid() {
        assertThat(run("create", "--url", url, "refreshed", "SELECT id, amount FROM orders WHERE amount > 100",
                "--mode", "FULL").exit()).isZero();
        sql(url, "INSERT INTO orders VALUES (100, 'cy', 500)");
        CliRun r = run("refresh", "refreshed", "--full", "--url", url);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^stream table: +public\\.refreshed$")
                .containsPattern("(?m)^action: +FULL$")
                .containsPattern("(?m)^rows inserted: +1$")
                .containsPattern("(?m)^rows deleted: +\\d+$")
                .containsPattern("(?m)^changes consumed: +\\d+$")
                .containsPattern("(?m)^duration: +\\d+ ms$")
                .contains("reason:");
        sql(url, "DELETE FROM orders WHERE id = 100");
    }

    @Test
    void alterPausesAndResumeActivates() {
        assertThat(run("create", "--url", url, "pausable", BY_CUSTOMER).exit()).isZero();
        CliRun paused = run("alter", "pausable", "--status", "paused", "--schedule", "1h", "--url", url);
        assertThat(paused.exit()).as(paused.toString()).isZero();
        assertThat(paused.out())
                .contains("altered stream table public.pausable (mode DIFFERENTIAL, schedule 1h, status PAUSED)");
        assertThat(run("status", "pausable", "--url", url).out()).containsPattern("(?m)^status: +PAUSED$");

        CliRun resumed = run("resume", "pausable", "--url", url);
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("status ACTIVE");
    }

    @Test
    void createVariantsAndDrop() {
        assertThat(run("create", "--url", url, "dropme", BY_CUSTOMER, "--no-initialize").out())
                .contains("not populated");
        CliRun keep = run("create", "--url", url, "dropme", BY_CUSTOMER, "--if-not-exists");
        assertThat(keep.exit()).as(keep.toString()).isZero();
        assertThat(keep.out()).startsWith("unchanged stream table public.dropme");
        CliRun both = run("create", "--url", url, "dropme", BY_CUSTOMER, "--if-not-exists", "--or-replace");
        assertThat(both.exit()).isEqualTo(ExitCode.USAGE);

        CliRun dropped = run("drop", "dropme", "--cascade", "--url", url);
        assertThat(dropped.exit()).as(dropped.toString()).isZero();
        assertThat(dropped.out()).isEqualToIgnoringNewLines("dropped stream table public.dropme");
        assertThat(run("list", "--url", url).out()).doesNotContain("dropme");
    }

    @Test
    void urlFromEnvironment() {
        CliRun r = run(Map.of("PGTRICKLE_URL", url), "list", "--json");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().has("stream_tables")).isTrue();
    }
}
