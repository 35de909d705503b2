package io.pgtrickle.server.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plain-text table: a header, columns padded to their widest cell and separated by two spaces, numbers
 * aligned right. No borders, so the output stays easy to grep and cut.
 */
final class Table {
    private static final String GAP = "  ";

    private final String[] headers;
    private final boolean[] numeric;
    private final boolean[] hasNumber;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... headers) {
        this.headers = headers.clone();
        this.numeric = new boolean[headers.length];
        this.hasNumber = new boolean[headers.length];
        Arrays.fill(numeric, true);
    }

    /**
     * Adds a row; cells are formatted by {@link Format#text}. A column is right-aligned if its cells are numbers
     * (or empty).
     */
    Table row(Object... cells) {
        if (cells.length != headers.length) {
            throw new IllegalArgumentException("expected " + headers.length + " cells, got " + cells.length);
        }
        String[] row = new String[cells.length];
        for (int i = 0; i < cells.length; i++) {
            row[i] = Format.text(cells[i]);
            numeric[i] &= cells[i] == null || cells[i] instanceof Number;
            hasNumber[i] |= cells[i] instanceof Number;
        }
        rows.add(row);
        return this;
    }

    boolean isEmpty() {
        return rows.isEmpty();
    }

    void print(PrintWriter out) {
        int[] widths = new int[headers.length];
        for (int i = 0; i < headers.length; i++) {
            widths[i] = headers[i].length();
            for (String[] row : rows) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        printRow(out, headers, widths);
        for (String[] row : rows) {
            printRow(out, row, widths);
        }
        out.flush();
    }

    private void printRow(PrintWriter out, String[] cells, int[] widths) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            boolean last = i == cells.length - 1;
            String pad = " ".repeat(widths[i] - cells[i].length());
            if (i > 0) {
                sb.append(GAP);
            }
            if (numeric[i] && hasNumber[i]) {
                sb.append(pad).append(cells[i]);
            } else {
                sb.append(cells[i]).append(last ? "" : pad); // no trailing blanks
            }
        }
        out.println(sb);
    }
}
