package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A database of its own for a family that needs one: the scheduler's tick (a thousand stream
 * tables), freshness (the daemon schedules every stream table of its database) and TPC-H (large
 * tables, dropped at once afterwards). Created beside the bench's database on the same server.
 */
final class ScratchDatabase implements AutoCloseable {
    private static final Pattern URL = Pattern.compile("(jdbc:postgresql://[^/]*/)([^?]*)(\\?.*)?");
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private final String adminUrl;
    private final String name;
    private final String url;

    private ScratchDatabase(String adminUrl, String name, String url) {
        this.adminUrl = adminUrl;
        this.name = name;
        this.url = url;
    }

    /** Drops a leftover of an earlier run, then creates {@code name} on the server of {@code benchUrl}. */
    static ScratchDatabase create(String benchUrl, String name) throws SQLException {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("invalid database name " + name);
        }
        Matcher m = URL.matcher(benchUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("cannot derive a database URL from " + benchUrl
                    + " (expected jdbc:postgresql://host[:port]/database[?...])");
        }
        String url = m.group(1) + name + (m.group(3) == null ? "" : m.group(3));
        try (Connection c = DriverManager.getConnection(benchUrl)) {
            Sql.exec(c, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            Sql.exec(c, "CREATE DATABASE " + name);
        }
        return new ScratchDatabase(benchUrl, name, url);
    }

    String url() {
        return url;
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = DriverManager.getConnection(adminUrl)) {
            Sql.exec(c, "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
