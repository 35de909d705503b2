package io.pgtrickle.bench;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Arrays;
import java.util.Collection;

/** Summaries of repeated measurements: median, spread, percentiles, geometric mean. */
public final class Stats {
    private Stats() {
    }

    /**
     * The summary of one series of repetitions, in the unit they were taken in.
     *
     * @param median the middle value (mean of the two middle ones for an even count)
     * @param min    the smallest
     * @param max    the largest
     * @param n      how many values
     */
    public record Sample(double median, double min, double max, int n) {
        /** max − min: how far apart the repetitions were; on a noisy machine often larger than a median difference. */
        @JsonProperty("spread")
        public double spread() {
            return max - min;
        }

        public static Sample of(double... values) {
            if (values.length == 0) {
                throw new IllegalArgumentException("no values");
            }
            return new Sample(Stats.median(values), Arrays.stream(values).min().orElseThrow(),
                    Arrays.stream(values).max().orElseThrow(), values.length);
        }
    }

    public static double median(double... values) {
        return percentile(50, values);
    }

    public static double spread(double... values) {
        requireValues(values);
        return Arrays.stream(values).max().orElseThrow() - Arrays.stream(values).min().orElseThrow();
    }

    /**
     * The p-th percentile (0–100) with linear interpolation between closest ranks (the method of
     * numpy's default and of PostgreSQL's {@code percentile_cont}): p = 50 is the median, p = 0 the
     * minimum, p = 100 the maximum.
     */
    public static double percentile(double p, double... values) {
        requireValues(values);
        if (p < 0 || p > 100 || Double.isNaN(p)) {
            throw new IllegalArgumentException("percentile must be in [0, 100], got " + p);
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double rank = p / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    /** The geometric mean of positive values: the mean of ratios that neither the large nor the small ones dominate. */
    public static double geometricMean(Collection<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no values");
        }
        double logSum = 0;
        for (double v : values) {
            if (!(v > 0) || Double.isInfinite(v)) {
                throw new IllegalArgumentException("geometric mean of a non-positive or infinite value: " + v);
            }
            logSum += Math.log(v);
        }
        return Math.exp(logSum / values.size());
    }

    private static void requireValues(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("no values");
        }
    }
}
