package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class StatsTest {
    @Test
    void medianOfOddAndEvenCountsIgnoresOrder() {
        assertThat(Stats.median(5, 1, 3)).isEqualTo(3);
        assertThat(Stats.median(4, 1, 3, 2)).isEqualTo(2.5);
        assertThat(Stats.median(7)).isEqualTo(7);
    }

    @Test
    void spreadIsMaxMinusMin() {
        assertThat(Stats.spread(3, 9, 4)).isEqualTo(6);
        assertThat(Stats.spread(2)).isZero();
    }

    @Test
    void percentilesInterpolateBetweenClosestRanks() {
        double[] v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
        assertThat(Stats.percentile(0, v)).isEqualTo(10);
        assertThat(Stats.percentile(100, v)).isEqualTo(100);
        assertThat(Stats.percentile(50, v)).isEqualTo(55);
        // rank 0.99 * 9 = 8.91: 90 + 0.91 * 10
        assertThat(Stats.percentile(99, v)).isCloseTo(99.1, within(1e-9));
        assertThat(Stats.percentile(25, 4, 1, 3, 2)).isCloseTo(1.75, within(1e-9));
    }

    @Test
    void sampleSummarisesRepetitions() {
        Stats.Sample s = Stats.Sample.of(12, 10, 30, 11);
        assertThat(s.median()).isEqualTo(11.5);
        assertThat(s.min()).isEqualTo(10);
        assertThat(s.max()).isEqualTo(30);
        assertThat(s.spread()).isEqualTo(20);
        assertThat(s.n()).isEqualTo(4);
    }

    @Test
    void geometricMeanOfRatios() {
        assertThat(Stats.geometricMean(List.of(2.0, 8.0))).isCloseTo(4, within(1e-9));
        assertThat(Stats.geometricMean(List.of(0.5, 2.0, 1.0))).isCloseTo(1, within(1e-9));
        assertThatThrownBy(() -> Stats.geometricMean(List.of(1.0, 0.0))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void emptyInputIsRefused() {
        assertThatThrownBy(Stats::median).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Stats.percentile(101, 1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Stats.geometricMean(List.of())).isInstanceOf(IllegalArgumentException.class);
    }
}
