package io.pgtrickle.server.daemon;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.server.daemon.CommitClock.Snapshot;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CommitClockTest {
    private static final Instant T0 = Instant.parse("2025-01-01T00:00:00Z");

    private static Instant at(int seconds) {
        return T0.plusSeconds(seconds);
    }

    @Test
    void snapshotTextAndVisibility() {
        Snapshot s = Snapshot.parse("100:110:105,102");
        assertThat(s.running()).containsExactly(102, 105);
        assertThat(s.ended(99)).isTrue();
        assertThat(s.ended(101)).isTrue();
        assertThat(s.ended(102)).as("running").isFalse();
        assertThat(s.ended(110)).as("not started").isFalse();
        assertThat(Snapshot.parse("7:7:").running()).isEmpty();
        assertThatThrownBy(() -> Snapshot.parse("7:7")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aTransactionIsCommittedSinceTheFirstSnapshotWhereItNoLongerRuns() {
        CommitClock clock = new CommitClock();
        clock.observe(at(0), Snapshot.parse("100:103:100,101"));
        clock.observe(at(10), Snapshot.parse("101:105:101"));
        clock.observe(at(20), Snapshot.parse("105:105:"));
        assertThat(clock.age(102, at(30))).as("ended before the first snapshot: since then at least")
                .isEqualTo(Duration.ofSeconds(30));
        assertThat(clock.age(100, at(30))).isEqualTo(Duration.ofSeconds(20));
        assertThat(clock.age(101, at(30))).as("a long transaction counts from its end").isEqualTo(Duration.ofSeconds(10));
        assertThat(clock.age(104, at(30))).as("started after the first snapshot").isEqualTo(Duration.ofSeconds(20));
        assertThat(clock.age(105, at(30))).as("not seen ended yet").isZero();
        assertThat(clock.committedBy(105)).isNull();
    }

    @Test
    void anUnchangedSnapshotKeepsTheEarlierTime() {
        CommitClock clock = new CommitClock();
        clock.observe(at(0), Snapshot.parse("5:9:6"));
        clock.observe(at(10), Snapshot.parse("9:9:"));
        clock.observe(at(20), Snapshot.parse("9:9:"));
        assertThat(clock.size()).isEqualTo(2);
        assertThat(clock.age(6, at(30))).isEqualTo(Duration.ofSeconds(20));
    }

    @Test
    void forgettingKeepsWhatIsNeededAndTheLastSample() {
        CommitClock clock = new CommitClock();
        for (int i = 0; i < 5; i++) {
            clock.observe(at(i * 10), Snapshot.parse((100 + i) + ":" + (100 + i) + ":"));
        }
        clock.forgetBefore(clock.committedBy(102));
        assertThat(clock.size()).isEqualTo(2);
        assertThat(clock.age(102, at(50))).isEqualTo(Duration.ofSeconds(20));
        clock.forgetBefore(null);
        assertThat(clock.size()).isEqualTo(1);
        assertThat(clock.age(102, at(50))).as("a lower bound: from the oldest sample kept").isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void pastTheLimitEverySecondSampleGoesAndAgesStayLowerBounds() {
        CommitClock clock = new CommitClock();
        int count = CommitClock.MAX_SAMPLES + 1;
        for (int i = 0; i < count; i++) {
            clock.observe(at(i), Snapshot.parse((1000 + i) + ":" + (1000 + i) + ":"));
        }
        assertThat(clock.size()).isEqualTo(CommitClock.MAX_SAMPLES / 2 + 1);
        Instant now = at(count);
        assertThat(clock.age(999, now)).as("the first sample is kept").isEqualTo(Duration.ofSeconds(count));
        for (int xid = 1000; xid < 1000 + count - 1; xid++) {
            Duration exact = Duration.ofSeconds(count - (xid - 1000 + 1));
            assertThat(clock.age(xid, now)).isLessThanOrEqualTo(exact).isGreaterThanOrEqualTo(exact.minusSeconds(1));
        }
    }
}
