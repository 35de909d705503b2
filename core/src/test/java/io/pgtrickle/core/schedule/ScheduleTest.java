package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ScheduleTest {
    @Test
    void durations() {
        assertThat(((Schedule.Every) Schedule.parse("500ms")).period()).isEqualTo(Duration.ofMillis(500));
        assertThat(((Schedule.Every) Schedule.parse("30s")).period()).isEqualTo(Duration.ofSeconds(30));
        assertThat(((Schedule.Every) Schedule.parse("5m")).period()).isEqualTo(Duration.ofMinutes(5));
        assertThat(((Schedule.Every) Schedule.parse("1h")).period()).isEqualTo(Duration.ofHours(1));
        assertThat(((Schedule.Every) Schedule.parse("1h30m")).period()).isEqualTo(Duration.ofMinutes(90));
        assertThat(((Schedule.Every) Schedule.parse("2w")).period()).isEqualTo(Duration.ofDays(14));
        assertThat(((Schedule.Every) Schedule.parse("45")).period()).isEqualTo(Duration.ofSeconds(45));
        assertThat(Schedule.parse("30S").catalogText()).isEqualTo("30s");
    }

    @Test
    void calculatedIsStoredAsNull() {
        assertThat(Schedule.parse("CALCULATED")).isInstanceOf(Schedule.Calculated.class);
        assertThat(Schedule.parse("calculated").catalogText()).isNull();
        assertThat(Schedule.fromCatalog(null)).isInstanceOf(Schedule.Calculated.class);
    }

    @Test
    void cronExpressionsAndAliases() {
        Schedule.CronSchedule every5 = (Schedule.CronSchedule) Schedule.parse("*/5 * * * *");
        assertThat(every5.nextAfter(Instant.parse("2026-01-01T00:03:10Z"))).isEqualTo(Instant.parse("2026-01-01T00:05:00Z"));
        Schedule.CronSchedule seconds = (Schedule.CronSchedule) Schedule.parse("*/10 * * * * *");
        assertThat(seconds.nextAfter(Instant.parse("2026-01-01T00:00:01Z"))).isEqualTo(Instant.parse("2026-01-01T00:00:10Z"));
        Schedule.CronSchedule hourly = (Schedule.CronSchedule) Schedule.parse("@hourly");
        assertThat(hourly.nextAfter(Instant.parse("2026-01-01T10:15:00Z"))).isEqualTo(Instant.parse("2026-01-01T11:00:00Z"));
        assertThat(hourly.catalogText()).isEqualTo("@hourly");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "  ", "5 minutes", "10x", "1.5s", "-5s", "s", "50ms", "0s", "* * *", "@sometimes",
            "61 * * * *", "99999999999999999999s"})
    void invalidSchedulesNameTheAcceptedForms(String text) {
        assertThatThrownBy(() -> Schedule.parse(text))
                .isInstanceOfSatisfying(PgtException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SCHEDULE);
                    assertThat(e.hint()).contains("'500ms'").contains("@hourly").contains("calculated");
                });
    }
}
