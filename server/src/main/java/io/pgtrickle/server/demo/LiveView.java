package io.pgtrickle.server.demo;

import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;
import io.pgtrickle.core.schedule.RefreshListener;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The demo's terminal view of refreshes as they happen. On a terminal it redraws one screen
 * twice a second; otherwise (piped, CI) it prints one line per refresh.
 */
final class LiveView implements RefreshListener {
    /** Per stream table: what the table shows. */
    static final class Row {
        final String name;
        final String schedule;
        long refreshes;
        long inserted;
        long deleted;
        long totalMillis;
        String lastAction = "-";
        long lastInserted;
        long lastDeleted;
        long lastMillis;
        Instant lastAt;
        long storedRows;
        String error;

        Row(String name, String schedule) {
            this.name = name;
            this.schedule = schedule;
        }
    }

    private static final String CLEAR = "\033[H\033[2J";
    private final PrintWriter out;
    private final boolean interactive;
    private final Map<String, Row> rows = new LinkedHashMap<>();
    private final Deque<String> recent = new ArrayDeque<>();

    LiveView(PrintWriter out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    synchronized void track(String name, String schedule) {
        rows.put(name, new Row(name, schedule));
    }

    synchronized Map<String, Row> rows() {
        return rows;
    }

    @Override
    public synchronized void refreshed(RefreshResult r) {
        Row row = rows.get(r.streamTable());
        if (row == null) {
            return;
        }
        row.refreshes++;
        row.inserted += r.rowsInserted();
        row.deleted += r.rowsDeleted();
        row.totalMillis += r.durationMillis();
        row.lastAction = r.action();
        row.lastInserted = r.rowsInserted();
        row.lastDeleted = r.rowsDeleted();
        row.lastMillis = r.durationMillis();
        row.lastAt = Instant.now();
        String line = String.format("%tT  %-26s %-12s +%-4d -%-4d %4d ms  (%d changes: %s)", java.time.LocalTime.now(),
                r.streamTable(), r.action(), r.rowsInserted(), r.rowsDeleted(), r.durationMillis(), r.changeRows(),
                r.reason());
        recent.addFirst(line);
        while (recent.size() > 8) {
            recent.removeLast();
        }
        if (!interactive) {
            out.println(line);
            out.flush();
        }
    }

    @Override
    public synchronized void failed(String streamTable, PgtException error) {
        Row row = rows.get(streamTable);
        if (row != null) {
            row.error = error.getMessage();
        }
        out.println("refresh of " + streamTable + " failed: " + error.getMessage());
        out.flush();
    }

    /** One frame: the table of stream tables, the workload counters and the latest refreshes. */
    synchronized void draw(Duration elapsed, Duration total, DemoWorkload workload) {
        if (!interactive) {
            return;
        }
        StringBuilder b = new StringBuilder(CLEAR);
        b.append(String.format("pg_trickle demo  %ds / %ds   writes: %d inserts, %d updates, %d deletes%n%n",
                elapsed.toSeconds(), total.toSeconds(), workload.inserts.get(), workload.updates.get(),
                workload.deletes.get()));
        b.append(String.format("%-26s %-10s %9s %-12s %7s %7s %7s %9s %6s%n", "STREAM TABLE", "SCHEDULE", "REFRESHES",
                "LAST", "+ROWS", "-ROWS", "LAST MS", "FRESHNESS", "ROWS"));
        Instant now = Instant.now();
        for (Row r : rows.values()) {
            String age = r.lastAt == null ? "-" : String.format("%.1fs", Duration.between(r.lastAt, now).toMillis() / 1000.0);
            b.append(String.format("%-26s %-10s %9d %-12s %7d %7d %7d %9s %6d%n", r.name, r.schedule, r.refreshes,
                    r.lastAction, r.lastInserted, r.lastDeleted, r.lastMillis, age, r.storedRows));
            if (r.error != null) {
                b.append("  error: ").append(r.error).append('\n');
            }
        }
        b.append("\nlatest refreshes:\n");
        recent.forEach(line -> b.append("  ").append(line).append('\n'));
        out.print(b);
        out.flush();
    }
}
