package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.StreamTables;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Small helpers of the daemon tests: SQL, HTTP and waiting for a condition (never a fixed sleep as a check). */
final class Testing {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Testing() {
    }

    record Http(int status, String contentType, String body) {
    }

    static Http get(int port, String path) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            return new Http(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new IllegalStateException("GET " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Polls until the condition holds; false if it did not within {@code limit}. */
    static boolean await(Duration limit, BooleanSupplier condition) {
        long deadline = System.nanoTime() + limit.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    static void sql(String url, String... statements) {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement()) {
            for (String s : statements) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in " + String.join("; ", statements), e);
        }
    }

    static long queryLong(String url, String query) {
        try (Connection c = DriverManager.getConnection(url); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in " + query, e);
        }
    }

    /**
     * Source {@code src} and three stream tables, refreshed every 100 ms, whose next refreshes
     * (after {@link #causeEveryOutcome}) give every refresh metric a series: {@code totals}
     * (DIFFERENTIAL), {@code inverse} (divides by zero: ERROR) and {@code noisy} (FULL fallback).
     */
    static void createStreamTablesWithEveryOutcome(String url) {
        sql(url, "CREATE TABLE src (id int PRIMARY KEY, v int)", "INSERT INTO src VALUES (1, 10), (2, 0)");
        StreamTables api = StreamTables.connect(url);
        api.install();
        api.create(CreateOptions.of("totals", "SELECT id % 2 AS k, sum(v) AS s FROM src GROUP BY id % 2").withSchedule("100ms"));
        api.create(CreateOptions.of("inverse", "SELECT 100 / v AS r FROM src WHERE id = 1").withSchedule("100ms"));
        api.create(CreateOptions.of("noisy", "SELECT id, random() AS r FROM src").withSchedule("100ms")); // AUTO: FULL
        api.create(CreateOptions.of("at_once", "SELECT count(*) AS n FROM src")
                .withRefreshMode(io.pgtrickle.core.api.RefreshMode.IMMEDIATE)); // counted under its EXCLUSIVE lock
    }

    /** Changes {@code src} and waits until a leading daemon has refreshed (or failed) all three. */
    static void causeEveryOutcome(String url, Duration limit) {
        sql(url, "INSERT INTO src VALUES (3, 5)", "UPDATE src SET v = 0 WHERE id = 1"); // inverse now divides by zero
        awaitValue(url, limit, "SELECT count(*) FROM pgtrickle.pgt_stream_tables WHERE status = 'ERROR'", 1);
        awaitValue(url, limit, "SELECT sum(s) FROM totals", 5);
        awaitValue(url, limit, "SELECT count(*) FROM noisy", 3);
    }

    private static void awaitValue(String url, Duration limit, String query, long expected) {
        if (!await(limit, () -> queryLong(url, query) == expected)) {
            throw new AssertionError(query + " did not return " + expected + " within " + limit);
        }
    }

    static String databaseName(String url) {
        String path = URI.create(url.substring("jdbc:".length())).getPath();
        return path.substring(1);
    }

    /** Sessions of pgtrickle daemons (application_name 'pgtrickle ...') in this database. */
    static long daemonSessions(String url) {
        return queryLong(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                + "AND application_name LIKE 'pgtrickle %'");
    }

    static long advisoryLocks(String url) {
        return queryLong(url, "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                + "WHERE l.locktype = 'advisory' AND d.datname = current_database()");
    }
}
