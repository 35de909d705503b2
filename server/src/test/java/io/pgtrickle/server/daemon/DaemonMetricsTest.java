package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.EmbeddedPostgres;
import io.pgtrickle.embedded.TestPostgres;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The gauges read from the database at scrape time, scraped without a scheduler: nothing refreshes
 * unless the test does, so changes stay in the buffers as long as the test wants.
 */
class DaemonMetricsTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final String KEPT_LAG = "pgtrickle_capture_lag_seconds{source=\"public.kept\"}";
    private static final String DRAINED_LAG = "pgtrickle_capture_lag_seconds{source=\"public.drained\"}";

    /** Sources kept (3 changes waiting, its stream table never refreshed) and drained (refreshed: empty buffer). */
    private static void changesWaitingInOneBufferOnly(String url) {
        sql(url, "CREATE TABLE kept (id int PRIMARY KEY, v int)", "CREATE TABLE drained (id int PRIMARY KEY, v int)");
        StreamTables api = StreamTables.connect(url);
        api.install();
        api.create(CreateOptions.of("kept_st", "SELECT id, v FROM kept").withSchedule("1h"));
        api.create(CreateOptions.of("drained_st", "SELECT id, v FROM drained").withSchedule("*/5 * * * *"));
        sql(url, "INSERT INTO kept VALUES (1, 1), (2, 2)", "UPDATE kept SET v = 3 WHERE id = 1",
                "INSERT INTO drained VALUES (1, 1)");
        api.refresh("drained_st");
    }

    private static DaemonMetrics metrics(String url) {
        return new DaemonMetrics(() -> DriverManager.getConnection(url), () -> null, () -> false);
    }

    /** The value of one series, which must be there. */
    private static double value(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
        assertThat(m.find()).as(series + " in\n" + scrape).isTrue();
        return Double.parseDouble(m.group(1));
    }

    @Test
    void statementsUnderImmediatesExclusiveLockAreCountedByReason() {
        String url = TestPostgres.newDatabase("metrics_ivm_lock").jdbcUrl();
        sql(url, "CREATE TABLE a (id int PRIMARY KEY, g int)");
        StreamTables api = StreamTables.connect(url);
        api.install();
        api.create(CreateOptions.of("groups", "SELECT g, count(*) AS n FROM a GROUP BY g")
                .withRefreshMode(io.pgtrickle.core.api.RefreshMode.IMMEDIATE));
        api.create(CreateOptions.of("rows", "SELECT id, g FROM a").withRefreshMode(io.pgtrickle.core.api.RefreshMode.IMMEDIATE));
        sql(url, "INSERT INTO a VALUES (1, 1)", "INSERT INTO a VALUES (2, 1)", "UPDATE a SET g = 2 WHERE id = 1");
        String scrape = metrics(url).scrape();
        assertThat(value(scrape, "pgtrickle_ivm_lock_fallbacks_total{reason=\"aggregate: writers share groups\",stream_table=\"public.groups\"}"))
                .isEqualTo(3);
        assertThat(scrape).as("ROW mode takes no stream-table lock")
                .doesNotContainPattern("(?m)^pgtrickle_ivm_lock_fallbacks_total\\{.*public\\.rows");
    }

    @Test
    void withoutCommitTimestampsCaptureLagCountsFromTheFirstScrapeThatSawTheChange() {
        String url = TestPostgres.newDatabase("metrics_capture_lag").jdbcUrl();
        changesWaitingInOneBufferOnly(url);
        DaemonMetrics metrics = metrics(url);
        Instant beforeFirst = Instant.now();
        String first = metrics.scrape();
        assertThat(value(first, "pgtrickle_change_buffer_rows{source=\"public.kept\"}")).isEqualTo(4); // I, I, D, I
        assertThat(value(first, "pgtrickle_change_buffer_rows{source=\"public.drained\"}")).isZero();
        assertThat(value(first, KEPT_LAG)).as("first seen now").isZero();
        assertThat(value(first, DRAINED_LAG)).isZero();

        assertThat(await(LIMIT, () -> value(metrics.scrape(), KEPT_LAG) > 0)).isTrue();
        String later = metrics.scrape();
        double elapsed = Duration.between(beforeFirst, Instant.now()).toMillis() / 1000.0;
        assertThat(value(later, KEPT_LAG)).as("a lower bound of the time since the first scrape")
                .isPositive().isLessThanOrEqualTo(elapsed);
        assertThat(value(later, DRAINED_LAG)).isZero();

        StreamTables.connect(url).refresh("kept_st");
        assertThat(value(metrics.scrape(), KEPT_LAG)).as("consumed").isZero();
    }

    @Test
    void withCommitTimestampsCaptureLagCountsFromTheCommit() throws Exception {
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder().setting("track_commit_timestamp", "on").start()) {
            pg.createDatabase("commit_ts");
            String url = pg.jdbcUrl("commit_ts");
            changesWaitingInOneBufferOnly(url);
            Instant committed = Instant.now();
            assertThat(await(LIMIT, () -> Instant.now().isAfter(committed.plusSeconds(1)))).isTrue();
            String first = metrics(url).scrape();
            assertThat(value(first, KEPT_LAG)).as("known from the commit on the first scrape").isGreaterThanOrEqualTo(1.0);
            assertThat(value(first, DRAINED_LAG)).isZero();
        }
    }

    @Test
    void statusOfEveryStreamTableAndPeriodOfDurationSchedules() {
        String url = TestPostgres.newDatabase("metrics_status").jdbcUrl();
        changesWaitingInOneBufferOnly(url);
        StreamTables.connect(url).alter("kept_st", AlterOptions.none().withStatus(Status.PAUSED));
        String scrape = metrics(url).scrape();
        for (Status s : Status.values()) {
            assertThat(value(scrape, "pgtrickle_stream_table_status{status=\"" + s + "\",stream_table=\"public.kept_st\"}"))
                    .isEqualTo(s == Status.PAUSED ? 1 : 0);
            assertThat(value(scrape, "pgtrickle_stream_table_status{status=\"" + s + "\",stream_table=\"public.drained_st\"}"))
                    .isEqualTo(s == Status.ACTIVE ? 1 : 0);
        }
        assertThat(value(scrape, "pgtrickle_schedule_seconds{stream_table=\"public.kept_st\"}")).isEqualTo(3600);
        assertThat(scrape).as("a cron schedule has no period")
                .doesNotContain("pgtrickle_schedule_seconds{stream_table=\"public.drained_st\"}");
    }
}
