package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.get;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.catalog.CatalogInstaller;
import io.pgtrickle.embedded.TestPostgres;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** /metrics, /health and / over real HTTP, from a leading and a standby daemon on one database. */
class HttpEndpointsTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static String url;
    private static Daemon leader;
    private static Daemon standby;

    @BeforeAll
    static void start() throws Exception {
        url = TestPostgres.newDatabase("daemon_http").jdbcUrl();
        Testing.createStreamTablesWithEveryOutcome(url);
        leader = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
        assertThat(await(LIMIT, leader::leader)).isTrue();
        standby = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
        Testing.causeEveryOutcome(url, LIMIT);
    }

    @AfterAll
    static void stop() {
        standby.close();
        leader.close();
    }

    @Test
    void metricsInPrometheusFormat() {
        // the scheduler forgets an ERROR stream table's freshness at its next tick after the failure
        assertThat(await(LIMIT, () -> !get(leader.httpPort(), "/metrics").body()
                .contains("pgtrickle_freshness_lag_seconds{stream_table=\"public.inverse\"}"))).isTrue();
        Testing.Http r = get(leader.httpPort(), "/metrics");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.contentType()).startsWith("text/plain");
        assertThat(r.body())
                .contains("# TYPE pgtrickle_refresh_duration_seconds histogram")
                .containsPattern("pgtrickle_refresh_duration_seconds_bucket\\{.*stream_table=\"public.totals\".*le=\"")
                .containsPattern("pgtrickle_refresh_duration_seconds_count\\{.*stream_table=\"public.totals\".*\\} [1-9]")
                .containsPattern("pgtrickle_refresh_duration_seconds_bucket\\{stream_table=\"public.totals\",le=\"\\+Inf\"\\} [1-9]")
                .containsPattern("pgtrickle_refreshes_total\\{action=\"DIFFERENTIAL\",stream_table=\"public.totals\"\\} [1-9]")
                .containsPattern("pgtrickle_rows_inserted_total\\{stream_table=\"public.totals\"\\} [1-9]")
                .containsPattern("pgtrickle_rows_deleted_total\\{stream_table=\"public.totals\"\\} [1-9]")
                .containsPattern("pgtrickle_full_fallbacks_total\\{reason=\"unsupported_query\",stream_table=\"public.noisy\"\\} [1-9]")
                .containsPattern("pgtrickle_refresh_errors_total\\{sqlstate_class=\"22\",stream_table=\"public.inverse\"\\} 1.0")
                .containsPattern("pgtrickle_change_buffer_rows\\{source=\"public.src\"\\} \\d")
                .containsPattern("pgtrickle_freshness_lag_seconds\\{stream_table=\"public.totals\"\\} \\d")
                .containsPattern("(?m)^pgtrickle_scheduler_tick_lag_seconds \\d")
                .containsPattern("(?m)^pgtrickle_leader 1.0$")
                .contains("pgtrickle_stream_table_status{status=\"ERROR\",stream_table=\"public.inverse\"} 1.0")
                .contains("pgtrickle_stream_table_status{status=\"ACTIVE\",stream_table=\"public.inverse\"} 0.0")
                .contains("pgtrickle_stream_table_status{status=\"ACTIVE\",stream_table=\"public.totals\"} 1.0")
                .contains("pgtrickle_schedule_seconds{stream_table=\"public.totals\"} 0.1")
                .containsPattern("pgtrickle_capture_lag_seconds\\{source=\"public.src\"\\} \\d");
        assertThat(r.body()).as("an ERROR stream table is not scheduled, so it has no freshness")
                .doesNotContain("pgtrickle_freshness_lag_seconds{stream_table=\"public.inverse\"}");
        assertThat(get(standby.httpPort(), "/metrics").body())
                .containsPattern("(?m)^pgtrickle_leader 0.0$")
                .containsPattern("pgtrickle_change_buffer_rows\\{source=\"public.src\"\\} \\d")
                .containsPattern("pgtrickle_capture_lag_seconds\\{source=\"public.src\"\\} \\d")
                .contains("pgtrickle_stream_table_status{status=\"ERROR\",stream_table=\"public.inverse\"} 1.0")
                .contains("pgtrickle_schedule_seconds{stream_table=\"public.totals\"} 0.1")
                .doesNotContain("pgtrickle_refreshes_total{");
    }

    @Test
    void healthTellsRoleDatabaseAndCatalog() {
        int v = CatalogInstaller.latestVersion();
        Testing.Http h = get(leader.httpPort(), "/health");
        assertThat(h.status()).isEqualTo(200);
        assertThat(h.contentType()).isEqualTo("application/json");
        assertThat(h.body()).isEqualTo("{\"status\":\"ok\",\"role\":\"leader\",\"database_reachable\":true,"
                + "\"catalog_version\":" + v + ",\"expected_catalog_version\":" + v + "}\n");
        assertThat(get(standby.httpPort(), "/health").body()).contains("\"role\":\"standby\"");
        assertThat(get(leader.httpPort(), "/nowhere").status()).isEqualTo(404);
    }

    @Test
    void healthIs503WhenTheCatalogIsNotTheOneThisDaemonNeeds() {
        sql(url, "INSERT INTO pgtrickle.pgt_schema_version (version, description) VALUES (999, 'from the future')");
        try {
            Testing.Http h = get(standby.httpPort(), "/health");
            assertThat(h.status()).isEqualTo(503);
            assertThat(h.body()).contains("\"status\":\"unavailable\"", "\"catalog_version\":999");
        } finally {
            sql(url, "DELETE FROM pgtrickle.pgt_schema_version WHERE version = 999");
        }
        assertThat(get(standby.httpPort(), "/health").status()).isEqualTo(200);
    }

    @Test
    void statusPageListsStreamTables() {
        Testing.Http page = get(leader.httpPort(), "/");
        assertThat(page.status()).isEqualTo(200);
        assertThat(page.contentType()).startsWith("text/html");
        assertThat(page.body())
                .contains("Role: <b>leader</b>")
                .containsPattern("<td>public\\.totals</td><td class=\"ACTIVE\">ACTIVE</td><td>DIFFERENTIAL</td><td>100ms</td>"
                        + "<td>\\d+\\.\\d s</td><td>\\d{4}-\\d\\d-\\d\\dT[^<]+</td><td>DIFFERENTIAL</td><td>\\d+ ms</td><td></td>")
                .containsPattern("<td>public\\.inverse</td><td class=\"ERROR\">ERROR</td>.*division by zero")
                .contains("public.noisy");
        assertThat(get(standby.httpPort(), "/").body()).contains("Role: <b>standby</b>", "public.totals");
    }
}
