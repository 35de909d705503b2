package io.pgtrickle.server.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Key/value lines for one object ("status NAME", "refresh"); continuation lines of a value are indented. */
final class Details {
    private record Entry(String key, String value) {
    }

    private final List<Entry> entries = new ArrayList<>();

    Details add(String key, Object value) {
        entries.add(new Entry(key, Format.text(value)));
        return this;
    }

    void print(PrintWriter out) {
        int width = entries.stream().mapToInt(e -> e.key().length()).max().orElse(0) + 2;
        String indent = " ".repeat(width);
        for (Entry e : entries) {
            String[] lines = e.value().strip().split("\\R");
            out.println(pad(e.key() + ":", width) + lines[0]);
            for (int i = 1; i < lines.length; i++) {
                out.println(indent + lines[i]);
            }
        }
        out.flush();
    }

    private static String pad(String s, int width) {
        return s + " ".repeat(Math.max(1, width - s.length()));
    }
}
