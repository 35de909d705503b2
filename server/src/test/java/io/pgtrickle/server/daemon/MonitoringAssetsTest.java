package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgtrickle.embedded.TestPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboard and the Prometheus alert rules of monitoring/ use only metrics that a real
 * daemon exports: every PromQL expression's metric names are compared, exactly (histograms with their
 * _bucket, _count and _sum), with the sample names of a /metrics scrape in which every series exists.
 */
class MonitoringAssetsTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final String DASHBOARD = "monitoring/grafana/pg_trickle-dashboard.json";
    private static final String RULES = "monitoring/prometheus/pg_trickle-alerts.yml";
    private static final Pattern LABEL_VALUES = Pattern.compile("label_values\\((.+),\\s*\\w+\\s*\\)", Pattern.DOTALL);

    private static Daemon daemon;
    private static Set<String> exported;
    private static JsonNode dashboard;
    private static JsonNode rules;

    @BeforeAll
    static void scrapeADaemonThatExportsEverySeries() throws IOException {
        Path root = repositoryRoot();
        dashboard = new ObjectMapper().readTree(root.resolve(DASHBOARD).toFile());
        rules = new ObjectMapper(new YAMLFactory()).readTree(root.resolve(RULES).toFile());
        String url = TestPostgres.newDatabase("monitoring_assets").jdbcUrl();
        Testing.createStreamTablesWithEveryOutcome(url);
        daemon = Daemon.start(Daemon.Options.of(url).withHttp("127.0.0.1", 0));
        assertThat(await(LIMIT, daemon::leader)).isTrue();
        Testing.causeEveryOutcome(url, LIMIT);
        exported = sampleNames(Testing.get(daemon.httpPort(), "/metrics").body());
    }

    @AfterAll
    static void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    /** The directory above the module that holds monitoring/ (Maven runs tests in server/). */
    private static Path repositoryRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(DASHBOARD))) {
                return p;
            }
        }
        throw new IllegalStateException(DASHBOARD + " not found above " + Path.of("").toAbsolutePath());
    }

    /** The names of the samples (not of the # TYPE lines): a histogram exports name_bucket, name_count, name_sum. */
    private static Set<String> sampleNames(String exposition) {
        Set<String> names = new TreeSet<>();
        for (String line : exposition.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                names.add(line.split("[{ ]", 2)[0]);
            }
        }
        return names;
    }

    /** Where (panel title and refId, variable name) to expression; Grafana's label_values(expr, label) gives expr. */
    private static Map<String, String> dashboardExpressions() {
        Map<String, String> exprs = new LinkedHashMap<>();
        for (JsonNode panel : allPanels()) {
            for (JsonNode target : panel.path("targets")) {
                exprs.put("panel '" + panel.path("title").asText() + "' " + target.path("refId").asText(),
                        target.path("expr").asText());
            }
        }
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if (variable.path("type").asText().equals("query")) {
                JsonNode q = variable.path("query");
                String query = q.isTextual() ? q.asText() : q.path("query").asText();
                Matcher m = LABEL_VALUES.matcher(query);
                assertThat(m.matches()).as("variable %s: label_values(metric, label) expected, got %s",
                        variable.path("name").asText(), query).isTrue();
                exprs.put("variable " + variable.path("name").asText(), m.group(1));
            }
        }
        return exprs;
    }

    /** Panels, including those inside collapsed rows. */
    private static List<JsonNode> allPanels() {
        List<JsonNode> panels = new ArrayList<>();
        for (JsonNode p : dashboard.path("panels")) {
            panels.add(p);
            p.path("panels").forEach(panels::add);
        }
        return panels;
    }

    private static Map<String, String> ruleExpressions() {
        Map<String, String> exprs = new LinkedHashMap<>();
        for (JsonNode group : rules.path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                exprs.put("alert " + rule.path("alert").asText(), rule.path("expr").asText());
            }
        }
        return exprs;
    }

    private static void assertEveryMetricIsExported(Map<String, String> exprs) {
        List<String> missing = new ArrayList<>();
        exprs.forEach((where, expr) -> {
            Set<String> used = PromQl.metricNames(expr);
            assertThat(used).as("%s selects no metric: %s", where, expr).isNotEmpty();
            used.stream().filter(n -> !exported.contains(n)).forEach(n -> missing.add(n + " in " + where + ": " + expr));
        });
        assertThat(missing).as("metrics used but not exported; /metrics has %s", exported).isEmpty();
    }

    @Test
    void theScrapeHasEverySeriesTheAssetsNeed() {
        assertThat(exported).contains("pgtrickle_refresh_duration_seconds_bucket", "pgtrickle_refresh_errors_total",
                "pgtrickle_full_fallbacks_total", "pgtrickle_capture_lag_seconds", "pgtrickle_schedule_seconds",
                "pgtrickle_stream_table_status", "pgtrickle_freshness_lag_seconds")
                .doesNotContain("pgtrickle_refresh_duration_seconds");
    }

    @Test
    void everyMetricTheDashboardUsesIsExported() {
        Map<String, String> exprs = dashboardExpressions();
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(15);
        assertEveryMetricIsExported(exprs);
    }

    @Test
    void everyMetricTheAlertRulesUseIsExported() {
        Map<String, String> exprs = ruleExpressions();
        assertThat(exprs).hasSizeGreaterThanOrEqualTo(6);
        assertEveryMetricIsExported(exprs);
    }

    @Test
    void theDashboardShowsWhatOperatorsAskFor() {
        Set<String> used = new HashSet<>();
        dashboardExpressions().values().forEach(e -> used.addAll(PromQl.metricNames(e)));
        assertThat(used).contains("pgtrickle_refresh_duration_seconds_bucket", "pgtrickle_change_buffer_rows",
                "pgtrickle_capture_lag_seconds", "pgtrickle_freshness_lag_seconds", "pgtrickle_refresh_errors_total",
                "pgtrickle_refreshes_total", "pgtrickle_full_fallbacks_total", "pgtrickle_scheduler_tick_lag_seconds",
                "pgtrickle_leader", "pgtrickle_stream_table_status");
        assertThat(dashboardExpressions().values())
                .anyMatch(e -> e.startsWith("histogram_quantile(0.5, ") && e.contains("pgtrickle_refresh_duration_seconds_bucket"))
                .anyMatch(e -> e.startsWith("histogram_quantile(0.99, ") && e.contains("pgtrickle_refresh_duration_seconds_bucket"));
    }

    @Test
    void theDashboardImportsWithAPrometheusDatasourceVariable() {
        assertThat(dashboard.path("uid").asText()).isNotBlank();
        assertThat(dashboard.path("schemaVersion").asInt()).isGreaterThanOrEqualTo(36); // Grafana 9.x and later
        assertThat(dashboard.path("templating").path("list")).anySatisfy(v -> {
            assertThat(v.path("name").asText()).isEqualTo("datasource");
            assertThat(v.path("type").asText()).isEqualTo("datasource");
            assertThat(v.path("query").asText()).isEqualTo("prometheus");
        });
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : allPanels()) {
            String title = panel.path("title").asText();
            assertThat(ids.add(panel.path("id").asInt())).as("unique id of %s", title).isTrue();
            JsonNode grid = panel.path("gridPos");
            assertThat(grid.path("w").asInt()).as("width of %s", title).isPositive();
            assertThat(grid.path("h").asInt()).as("height of %s", title).isPositive();
            assertThat(grid.path("x").asInt() + grid.path("w").asInt()).as("%s fits in 24 columns", title).isLessThanOrEqualTo(24);
            if (!panel.path("type").asText().equals("row")) {
                assertThat(panel.path("datasource").path("uid").asText()).as("datasource of %s", title).isEqualTo("${datasource}");
                assertThat(panel.path("targets")).as("queries of %s", title).isNotEmpty()
                        .allSatisfy(t -> assertThat(t.path("datasource").path("uid").asText()).isEqualTo("${datasource}"));
            }
        }
    }

    @Test
    void theRulesFileHasTheRequiredAlerts() {
        Map<String, JsonNode> byName = new LinkedHashMap<>();
        for (JsonNode group : rules.path("groups")) {
            assertThat(group.path("name").asText()).isNotBlank();
            for (JsonNode rule : group.path("rules")) {
                String name = rule.path("alert").asText();
                assertThat(byName.put(name, rule)).as("alert %s defined once", name).isNull();
                assertThat(rule.path("labels").path("severity").asText()).as(name).isIn("warning", "critical");
                assertThat(rule.path("for").asText()).as(name).matches("\\d+[smh]");
                assertThat(rule.path("annotations").path("summary").asText()).as(name).isNotBlank();
                assertThat(rule.path("annotations").path("description").asText()).as(name).isNotBlank();
            }
        }
        Map<String, List<String>> required = Map.of(
                "PgTrickleRefreshLatencyHigh", List.of("pgtrickle_refresh_duration_seconds_bucket"),
                "PgTrickleChangeBufferDeep", List.of("pgtrickle_change_buffer_rows"),
                "PgTrickleStale", List.of("pgtrickle_freshness_lag_seconds", "pgtrickle_schedule_seconds"),
                "PgTrickleStreamTableFailed", List.of("pgtrickle_stream_table_status"),
                "PgTrickleNoLeader", List.of("pgtrickle_leader"),
                "PgTrickleRefreshErrors", List.of("pgtrickle_refresh_errors_total"));
        assertThat(byName).containsKeys(required.keySet().toArray(String[]::new));
        required.forEach((name, metrics) -> assertThat(PromQl.metricNames(byName.get(name).path("expr").asText()))
                .as(name).containsAll(metrics));
        assertThat(byName.get("PgTrickleRefreshLatencyHigh").path("expr").asText()).contains("histogram_quantile(0.99,", "> 30");
        assertThat(byName.get("PgTrickleChangeBufferDeep").path("expr").asText()).contains("> 100000");
        assertThat(byName.get("PgTrickleStreamTableFailed").path("expr").asText()).contains("SUSPENDED|ERROR");
    }
}
