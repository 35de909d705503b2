package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class StreamTableGraphTest {
    private static ScheduledTable st(long id, String schedule, Long... upstream) {
        return new ScheduledTable(id, "st" + id, Schedule.fromCatalog(schedule), null, List.of(upstream), false);
    }

    @Test
    void upstreamComesFirstAndTiesAreStable() {
        // 4 reads 2 and 3; 2 and 3 read 1 (a diamond); 5 is alone.
        StreamTableGraph g = new StreamTableGraph(List.of(st(4, "1s", 2L, 3L), st(3, "1s", 1L), st(5, "1s"),
                st(2, "1s", 1L), st(1, "1s")));
        assertThat(g.topologicalOrder()).extracting(ScheduledTable::id).containsExactly(1L, 5L, 2L, 3L, 4L);
    }

    @Test
    void calculatedSchedulesTakeTheTightestReader() {
        StreamTableGraph g = new StreamTableGraph(List.of(st(1, null), st(2, "10s", 1L), st(3, null, 1L),
                st(4, "2s", 3L), st(5, null), st(6, "*/5 * * * *", 5L)));
        Map<Long, Duration> p = g.effectivePeriods(Duration.ofSeconds(1));
        assertThat(p.get(3L)).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.get(1L)).isEqualTo(Duration.ofSeconds(2));  // through 3, tighter than 2's 10s
        assertThat(p.get(5L)).isEqualTo(Duration.ofSeconds(1));  // only a cron reader: the default
        assertThat(p).doesNotContainKey(6L);
    }

    @Test
    void dueWhenThePeriodHasPassedOrTheCronHasFired() {
        Instant last = Instant.parse("2026-01-01T00:00:00Z");
        ScheduledTable every = new ScheduledTable(1, "a", Schedule.parse("30s"), last, List.of(), false);
        assertThat(Scheduler.due(every, Duration.ofSeconds(30), last.plusSeconds(29))).isFalse();
        assertThat(Scheduler.due(every, Duration.ofSeconds(30), last.plusSeconds(30))).isTrue();
        ScheduledTable cron = new ScheduledTable(2, "b", Schedule.parse("*/5 * * * *"), last.plusSeconds(60), List.of(), false);
        assertThat(Scheduler.due(cron, null, last.plusSeconds(299))).isFalse();
        assertThat(Scheduler.due(cron, null, last.plusSeconds(300))).isTrue();
        ScheduledTable never = new ScheduledTable(3, "c", Schedule.parse("1h"), null, List.of(), false);
        assertThat(Scheduler.due(never, Duration.ofHours(1), last)).isTrue();
    }

    @Test
    void backoffDoublesUpToAMinuteWithinAQuarterEitherWay() {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        RandomGenerator low = () -> 0L;          // nextDouble() == 0: the earliest retry
        RandomGenerator high = () -> -1L;        // nextDouble() just below 1: the latest
        Backoff b = Backoff.after(null, now, low);
        assertThat(b.retryAt()).isEqualTo(now.plusMillis(750));
        assertThat(Backoff.after(null, now, high).retryAt()).isEqualTo(now.plusMillis(1250));
        assertThat(Backoff.after(b, now, low).retryAt()).isEqualTo(now.plusMillis(1500));
        for (int i = 0; i < 10; i++) {
            b = Backoff.after(b, now, low);
        }
        assertThat(b.retryAt()).isEqualTo(now.plusSeconds(45));
        assertThat(Backoff.after(b, now, high).retryAt()).isEqualTo(now.plusSeconds(75));
    }
}
