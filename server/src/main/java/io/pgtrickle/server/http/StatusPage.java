package io.pgtrickle.server.http;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

/** The HTML page at {@code /}: role, health, and one row per stream table. Every value is escaped. */
final class StatusPage {
    private StatusPage() {
    }

    static String render(StatusSource source) {
        StatusSource.Health h = source.health();
        StringBuilder html = new StringBuilder("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>pg_trickle</title>
                <meta http-equiv="refresh" content="5">
                <style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}
                td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
                .ACTIVE{color:#070}.ERROR,.SUSPENDED{color:#b00;font-weight:bold}.PAUSED{color:#888}</style>
                </head><body><h1>pg_trickle</h1>
                """);
        html.append("<p>Role: <b>").append(esc(h.role())).append("</b> · database ")
                .append(h.databaseReachable() ? "reachable" : "<b>unreachable</b>")
                .append(" · catalog version ").append(h.catalogVersion())
                .append(h.catalogVersion() == h.expectedCatalogVersion() ? "" : " (expected " + h.expectedCatalogVersion() + ")")
                .append(" · <a href=\"/metrics\">metrics</a> · <a href=\"/health\">health</a></p>\n");
        List<StatusSource.StreamTableRow> rows;
        try {
            rows = source.streamTables();
        } catch (Exception e) {
            return html.append("<p>Stream tables cannot be read: ").append(esc(e.getMessage())).append("</p></body></html>\n")
                    .toString();
        }
        if (rows.isEmpty()) {
            return html.append("<p>No stream tables yet.</p></body></html>\n").toString();
        }
        Instant now = Instant.now();
        html.append("<table><tr><th>Stream table</th><th>Status</th><th>Mode</th><th>Schedule</th><th>Freshness lag</th>"
                + "<th>Last refresh</th><th>Action</th><th>Duration</th><th>Last error</th></tr>\n");
        for (StatusSource.StreamTableRow r : rows) {
            html.append("<tr><td>").append(esc(r.name()))
                    .append("</td><td class=\"").append(esc(r.status())).append("\">").append(esc(r.status()))
                    .append("</td><td>").append(esc(r.mode()))
                    .append("</td><td>").append(esc(r.schedule()))
                    .append("</td><td>").append(r.freshAsOf() == null ? "–" : lag(Duration.between(r.freshAsOf(), now)))
                    .append("</td><td>").append(r.lastRefreshAt() == null ? "never"
                            : esc(r.lastRefreshAt().truncatedTo(ChronoUnit.SECONDS).toString()))
                    .append("</td><td>").append(r.lastAction() == null ? "" : esc(r.lastAction()))
                    .append("</td><td>").append(r.lastAction() == null ? "" : r.lastDurationMillis() + " ms")
                    .append("</td><td>").append(r.lastError() == null ? "" : esc(r.lastError()))
                    .append("</td></tr>\n");
        }
        return html.append("</table></body></html>\n").toString();
    }

    static String lag(Duration d) {
        long ms = Math.max(0, d.toMillis());
        return ms < 10_000 ? String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0) : ms < 600_000 ? ms / 1000 + " s" : ms / 60_000 + " min";
    }

    static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '&' -> out.append("&amp;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> out.append(c);
            }
        }
        return out.toString();
    }
}
