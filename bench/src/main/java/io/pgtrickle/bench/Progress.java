package io.pgtrickle.bench;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Locale;

/**
 * Progress on the console while a run goes on: one line per measured step,
 * {@code [refresh 3/36] 2-way join @ 1 % ... DIFF 12.1 ms  FULL 480 ms (0:42 elapsed, about 4:10 left in refresh)}.
 * The time left is extrapolated from the family's steps so far.
 */
final class Progress {
    private final PrintStream out;
    private final long runStart = System.nanoTime();
    private String family = "";
    private int steps;
    private int done;
    private long familyStart;

    Progress(PrintStream out) {
        this.out = out;
    }

    void family(String name, int steps, String what) {
        this.family = name;
        this.steps = steps;
        this.done = 0;
        this.familyStart = System.nanoTime();
        out.printf("%n== %s: %s (%s since start)%n", name, what, clock(elapsed(runStart)));
        out.flush();
    }

    /** Starts a step: prints its label and leaves the line open for {@link #result}. */
    void step(String label) {
        out.printf("[%s %d/%d] %s ... ", family, done + 1, steps, label);
        out.flush();
    }

    void result(String text) {
        done++;
        Duration inFamily = elapsed(familyStart);
        String left = done < steps && done > 0
                ? ", about " + clock(inFamily.dividedBy(done).multipliedBy(steps - done)) + " left in " + family : "";
        out.printf("%s  (%s elapsed%s)%n", text, clock(elapsed(runStart)), left);
        out.flush();
    }

    /** A line outside the steps (setup, notes). */
    void note(String format, Object... args) {
        out.printf(Locale.ROOT, format + "%n", args);
        out.flush();
    }

    Duration sinceStart() {
        return elapsed(runStart);
    }

    private static Duration elapsed(long since) {
        return Duration.ofNanos(System.nanoTime() - since);
    }

    static String clock(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60) : String.format("%d:%02d", s / 60, s % 60);
    }

    /** "12.1 ms", "480 ms", "1.92 s". */
    static String ms(double millis) {
        if (millis >= 1000) {
            return String.format(Locale.ROOT, "%.2f s", millis / 1000);
        }
        return String.format(Locale.ROOT, millis >= 100 ? "%.0f ms" : "%.1f ms", millis);
    }
}
