package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The sources of the refresh and IMMEDIATE scenarios: {@code events} (the fact table, {@code rows}
 * rows, 10,000 keys k, values v and w), {@code dims} (10,000 rows, one per key) and {@code regions} (10 rows).
 */
final class EventsSchema {
    private EventsSchema() {
    }

    /**
     * k, v and w of the row with id g. v follows from k (both from g modulo 10,000), so all rows of
     * a group hold the same v until updated: every removed row is its group's MIN and MAX. w adds
     * g / 10,000: the rows of a group hold distinct consecutive values (100 of them at 1,000,000 rows).
     */
    static final String COLUMNS = "(g::bigint * 7919) % 10000, (g::bigint * 104729) % 1000, (g::bigint * 104729 + g / 10000) % 1000";

    static void load(Connection c, int rows) throws SQLException {
        Sql.exec(c, "DROP TABLE IF EXISTS events, dims, regions CASCADE");
        Sql.exec(c, "CREATE TABLE regions (id int PRIMARY KEY, name text NOT NULL)");
        Sql.exec(c, "INSERT INTO regions SELECT g, 'region ' || g FROM generate_series(0, 9) g");
        Sql.exec(c, "CREATE TABLE dims (k int PRIMARY KEY, name text NOT NULL)");
        Sql.exec(c, "INSERT INTO dims SELECT g, 'dim ' || g FROM generate_series(0, 9999) g");
        Sql.exec(c, "CREATE TABLE events (id bigint PRIMARY KEY, k int NOT NULL, v int NOT NULL, w int NOT NULL, pad text)");
        Sql.exec(c, "INSERT INTO events SELECT g, " + COLUMNS + ", repeat('x', 40) FROM generate_series(1, " + rows + ") g");
        Sql.exec(c, "CREATE INDEX ON events (k)");
        Sql.exec(c, "VACUUM ANALYZE events");
        Sql.exec(c, "ANALYZE dims");
        Sql.exec(c, "ANALYZE regions");
    }
}
