package io.pgtrickle.server.daemon;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Tells how long ago a transaction committed, at least, without {@code track_commit_timestamp}: the
 * daemon takes a snapshot ({@code pg_current_snapshot()}) at every scrape, and a transaction is
 * known committed since the first snapshot in which it is no longer running. The age is a lower
 * bound, precise to one scrape interval, and starts at the first scrape this daemon served.
 *
 * <p>Memory stays small: a snapshot equal to the previous one is not kept, snapshots older than
 * the ones still needed are forgotten, and past {@link #MAX_SAMPLES} every second one is dropped.
 * Dropping one only makes a later age smaller, so every answer stays a lower bound. Not thread-safe.
 */
final class CommitClock {
    static final int MAX_SAMPLES = 1024;

    /** A {@code pg_snapshot}: transactions below xmin have ended, from xmax on have not started. */
    record Snapshot(long xmin, long xmax, long[] running) {
        /** Parses the text form {@code xmin:xmax:xip,xip,...}. */
        static Snapshot parse(String text) {
            String[] parts = text.split(":", -1);
            if (parts.length != 3) {
                throw new IllegalArgumentException("not a pg_snapshot: " + text);
            }
            long[] running = parts[2].isEmpty() ? new long[0]
                    : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).sorted().toArray();
            return new Snapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), running);
        }

        /** Whether the transaction had ended when the snapshot was taken (pg_visible_in_snapshot). */
        boolean ended(long xid) {
            return xid < xmin || xid < xmax && Arrays.binarySearch(running, xid) < 0;
        }

        boolean sameAs(Snapshot o) {
            return xmin == o.xmin && xmax == o.xmax && Arrays.equals(running, o.running);
        }
    }

    private record Sample(Instant at, Snapshot snapshot) {
    }

    private final List<Sample> samples = new ArrayList<>();

    /** Records a snapshot taken before {@code at}. */
    void observe(Instant at, Snapshot snapshot) {
        if (!samples.isEmpty() && samples.get(samples.size() - 1).snapshot().sameAs(snapshot)) {
            return; // nothing ended in between: the earlier sample says the same, earlier
        }
        samples.add(new Sample(at, snapshot));
        if (samples.size() > MAX_SAMPLES) {
            for (int i = samples.size() - 2; i > 0; i -= 2) { // keeps the first and the last
                samples.remove(i);
            }
        }
    }

    /** The first sample time at which the transaction had committed; null if it had not in any. */
    Instant committedBy(long xid) {
        for (Sample s : samples) {
            if (s.snapshot().ended(xid)) {
                return s.at();
            }
        }
        return null;
    }

    /** At least how long ago the transaction committed; zero if no sample saw it committed. */
    Duration age(long xid, Instant now) {
        Instant by = committedBy(xid);
        return by == null || by.isAfter(now) ? Duration.ZERO : Duration.between(by, now);
    }

    /**
     * Forgets the samples taken before {@code oldestNeeded} (the earliest {@link #committedBy} still
     * asked for); null when none is needed. The last sample is always kept.
     */
    void forgetBefore(Instant oldestNeeded) {
        int keepFrom = samples.size() - 1;
        if (oldestNeeded != null) {
            for (int i = 0; i < samples.size(); i++) {
                if (!samples.get(i).at().isBefore(oldestNeeded)) {
                    keepFrom = Math.min(i, keepFrom);
                    break;
                }
            }
        }
        if (keepFrom > 0) {
            samples.subList(0, keepFrom).clear();
        }
    }

    int size() {
        return samples.size();
    }
}
