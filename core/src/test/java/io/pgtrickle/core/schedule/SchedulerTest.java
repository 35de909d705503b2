package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.testing.Db;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The scheduler against real PostgreSQL with a clock the test moves: no test sleeps. */
class SchedulerTest {
    private Db db;
    private Scheduler scheduler;
    private Instant now;
    private final List<String> failures = new ArrayList<>();

    @BeforeEach
    void setUp() {
        db = Db.create(SchedulerTest.class);
        db.exec("CREATE TABLE orders (id int PRIMARY KEY, region text, amount int)",
                "INSERT INTO orders VALUES (1, 'eu', 10), (2, 'us', 20)");
        // Well after the creation timestamps, so only the schedules decide what is due.
        now = Instant.now().plusSeconds(3600);
        InstantSource clock = () -> now;
        scheduler = new Scheduler(() -> DriverManager.getConnection(db.url()), clock, new RefreshListener() {
            @Override
            public void refreshed(RefreshResult result) {
            }

            @Override
            public void failed(String streamTable, PgtException error) {
                failures.add(streamTable + ": " + error.getMessage());
            }
        });
    }

    @AfterEach
    void tearDown() {
        scheduler.close();
    }

    private List<String> tick() {
        return scheduler.tick().stream().map(r -> r.streamTable() + ":" + r.action()).toList();
    }

    @Test
    void aScheduleOnlyTheSqlCheckAcceptsLeavesTheOthersScheduled() {
        db.api.create(CreateOptions.of("by_region", "SELECT region, sum(amount) AS total FROM orders GROUP BY region")
                .withSchedule("10s"));
        db.api.create(CreateOptions.of("ids", "SELECT id FROM orders").withSchedule("10s"));
        // The SQL API checks cron fields coarsely (names in any field); cron-utils refuses this one.
        db.exec("CALL pgtrickle.alter_stream_table('ids', schedule => 'MON * * * *')");
        db.exec("INSERT INTO orders VALUES (3, 'eu', 10)");
        now = now.plusSeconds(10);
        assertThat(tick()).containsExactly("public.by_region:DIFFERENTIAL");
        assertThat(failures).isEmpty();
        db.assertOracle("by_region");
    }

    @Test
    void refreshesOnlyWhatIsDueAndChangedInTopologicalOrder() {
        db.api.create(CreateOptions.of("by_region", "SELECT region, sum(amount) AS total FROM orders GROUP BY region")
                .withSchedule("10s"));
        db.api.create(CreateOptions.of("big", "SELECT region FROM by_region WHERE total > 15")); // calculated
        db.api.create(CreateOptions.of("big_count", "SELECT count(*) AS n FROM big").withSchedule("5s"));
        assertThat(tick()).as("due, but nothing changed: a no-op tick").isEmpty();

        db.exec("INSERT INTO orders VALUES (3, 'eu', 10)");
        assertThat(tick()).containsExactly("public.by_region:DIFFERENTIAL", "public.big:DIFFERENTIAL", "public.big_count:DIFFERENTIAL");
        db.assertOracle("by_region");
        db.assertOracle("big");
        db.assertOracle("big_count");

        now = now.plusSeconds(2);
        db.exec("INSERT INTO orders VALUES (4, 'us', 1)");
        assertThat(tick()).as("by_region's 10 s have not passed").isEmpty();
        now = now.plusSeconds(8);
        // big's rows do not change (both regions stay above 15), so big_count has nothing to do.
        assertThat(tick()).containsExactly("public.by_region:DIFFERENTIAL", "public.big:DIFFERENTIAL");
        assertThat(tick()).isEmpty();
        db.assertOracle("big_count");
    }

    private List<String> withWork() {
        return db.queryStrings("SELECT s.pgt_name FROM pgtrickle._stream_tables_with_work() w"
                + " JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = w ORDER BY 1");
    }

    @Test
    void withWorkNamesEachReaderThatHasNotConsumedACapturedChangeOnce() {
        db.exec("CREATE TABLE regions (name text PRIMARY KEY, zone text)", "INSERT INTO regions VALUES ('eu', 'emea')");
        db.api.create(CreateOptions.of("ids", "SELECT id FROM orders").withSchedule("10s"));
        db.api.create(CreateOptions.of("amounts", "SELECT id, amount FROM orders").withSchedule("10s"));
        db.api.create(CreateOptions.of("zoned", "SELECT o.id, r.zone FROM orders o JOIN regions r ON r.name = o.region")
                .withSchedule("10s"));
        db.api.create(CreateOptions.of("zones", "SELECT zone FROM regions").withSchedule("10s"));
        assertThat(withWork()).as("every buffer empty").isEmpty();

        db.exec("INSERT INTO orders VALUES (3, 'eu', 10)", "INSERT INTO regions VALUES ('us', 'amer')");
        assertThat(withWork()).as("zoned reads both changed sources and is named once")
                .containsExactly("amounts", "ids", "zoned", "zones");
        db.api.refresh("ids");
        db.api.refresh("zones");
        assertThat(withWork()).as("the buffers still hold rows the others have not consumed").containsExactly("amounts", "zoned");
        db.api.refresh("amounts");
        db.api.refresh("zoned");
        assertThat(withWork()).isEmpty();

        db.exec("UPDATE regions SET zone = 'europe' WHERE name = 'eu'");
        db.api.alter("zoned", AlterOptions.none().withStatus(Status.PAUSED));
        assertThat(withWork()).as("a paused reader is not named").containsExactly("zones");
        db.assertOracle("ids");
        db.assertOracle("amounts");
    }

    @Test
    void pausedStreamTablesAndADisabledDatabaseAreLeftAlone() {
        db.api.create(CreateOptions.of("totals", "SELECT sum(amount) AS total FROM orders").withSchedule("1s"));
        db.api.alter("totals", AlterOptions.none().withStatus(Status.PAUSED));
        db.exec("INSERT INTO orders VALUES (5, 'eu', 5)");
        now = now.plusSeconds(5);
        assertThat(tick()).isEmpty();
        db.api.alter("totals", AlterOptions.none().withStatus(Status.ACTIVE));

        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.enabled = off");
        try {
            assertThat(tick()).isEmpty();
        } finally {
            db.exec("ALTER DATABASE " + db.database.name() + " RESET pg_trickle.enabled");
        }
        assertThat(tick()).containsExactly("public.totals:DIFFERENTIAL");
        db.assertOracle("totals");
    }

    @Test
    void cronSchedulesFireOnTheirExpression() {
        db.api.create(CreateOptions.of("cron_totals", "SELECT sum(amount) AS total FROM orders").withSchedule("* * * * *"));
        db.exec("INSERT INTO orders VALUES (6, 'eu', 5)");
        assertThat(tick()).containsExactly("public.cron_totals:DIFFERENTIAL"); // an hour after creation: fired long ago
        db.exec("INSERT INTO orders VALUES (7, 'eu', 5)");
        assertThat(tick()).isEmpty(); // refreshed at the database's real time; next minute not reached
    }

    @Test
    void aFailingRefreshIsReportedAndTheStreamTableStops() {
        db.exec("CREATE TABLE divisors (d int)", "INSERT INTO divisors VALUES (1)");
        db.api.create(CreateOptions.of("ratios", "SELECT 100 / d AS r FROM divisors").withSchedule("1s"));
        db.exec("INSERT INTO divisors VALUES (0)");
        now = now.plusSeconds(1);
        assertThat(tick()).isEmpty();
        assertThat(failures).singleElement().asString().contains("ratios").contains("division by zero");
        assertThat(db.api.get("ratios").status()).isEqualTo(Status.ERROR);
        now = now.plusSeconds(10);
        assertThat(tick()).isEmpty();
        assertThat(failures).hasSize(1);
    }

    @Test
    void anUninitialisedStreamTableIsPopulatedByTheScheduler() {
        db.api.create(CreateOptions.of("later", "SELECT id FROM orders").withSchedule("1s").withInitialize(false));
        assertThat(db.api.get("later").status()).isEqualTo(Status.INITIALIZING);
        assertThat(tick()).containsExactly("public.later:FULL");
        assertThat(db.api.get("later").status()).isEqualTo(Status.ACTIVE);
        db.assertOracle("later");
    }

    @Test
    void theBackgroundLoopRefreshesWithoutBeingAsked() throws Exception {
        Scheduler live = new Scheduler(() -> DriverManager.getConnection(db.url()), InstantSource.system(), RefreshListener.NONE);
        db.api.create(CreateOptions.of("live", "SELECT count(*) AS n FROM orders").withSchedule("100ms"));
        live.start();
        try {
            db.exec("INSERT INTO orders VALUES (8, 'eu', 1)");
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (db.queryLong("SELECT n FROM live") != 3 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        } finally {
            live.close();
        }
        db.assertOracle("live");
        assertThat(db.api.history("live", 5).get(0).initiatedBy()).isEqualTo("SCHEDULER");
    }

    @Test
    void sleepsUntilTheNextStreamTableWithWorkIsDue() {
        db.api.create(CreateOptions.of("slow", "SELECT count(*) AS n FROM orders").withSchedule("30s"));
        now = now.plusSeconds(1);
        assertThat(tick()).isEmpty();
        assertThat(scheduler.nextDue()).as("nothing to do: only a change notification or the poll wakes it").isEmpty();
        Instant idleTick = now;
        assertThat(scheduler.freshAsOf()).containsEntry("public.slow", idleTick);
        assertThat(db.api.refresh("slow").action()).isEqualTo("NO_DATA");

        db.exec("INSERT INTO orders VALUES (9, 'eu', 1)");
        Instant lastRefresh = db.api.get("slow").lastRefreshAt().toInstant();
        now = lastRefresh.plusSeconds(10);
        assertThat(tick()).isEmpty();
        assertThat(scheduler.nextDue()).contains(lastRefresh.plusSeconds(30));
        assertThat(scheduler.freshAsOf()).as("changes pending: not fresher than before").containsEntry("public.slow", idleTick);
        now = lastRefresh.plusSeconds(30);
        assertThat(tick()).containsExactly("public.slow:DIFFERENTIAL");
        assertThat(scheduler.nextDue()).isEmpty();
        assertThat(scheduler.freshAsOf()).containsEntry("public.slow", now);
    }

    @Test
    void aWakeUpTicksAtOnceInsteadOfWaitingForThePoll() throws Exception {
        Duration hour = Duration.ofHours(1);
        Scheduler live = new Scheduler(() -> DriverManager.getConnection(db.url()), InstantSource.system(),
                RefreshListener.NONE, hour, java.util.random.RandomGenerator.getDefault());
        db.api.create(CreateOptions.of("woken", "SELECT count(*) AS n FROM orders").withSchedule("100ms"));
        live.start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (live.ticks() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertThat(live.ticks()).as("the first tick found nothing to do; the next poll is an hour away").isEqualTo(1);
            db.exec("INSERT INTO orders VALUES (10, 'eu', 1)");
            live.wakeUp();
            while (db.queryLong("SELECT n FROM woken") != 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(db.queryLong("SELECT n FROM woken")).as("refreshed long before the hour's poll").isEqualTo(3);
        } finally {
            live.close();
        }
    }
}
