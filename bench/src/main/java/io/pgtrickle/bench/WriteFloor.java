package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The write floor of a refresh: what PostgreSQL itself needs to write one refresh's net change to
 * the stored rows by their key, in one statement that computes nothing. No refresh that keeps the
 * stored rows in place (DIFFERENTIAL does; so do FULL and {@code CONCURRENTLY}, which write only the
 * rows that changed) can cost less, so FULL / floor bounds FULL / DIFF from above on the machine
 * measured.
 *
 * <p>{@link #before} copies the stored rows (untimed); after the refresh, {@link #measure} finds what
 * it changed (the rows it deleted, inserted and updated, by {@code __pgt_row_id}) and times the
 * statement that writes the same change backwards on the stream table itself: it inserts the rows
 * the refresh deleted, deletes those it inserted and sets the updated ones back, as many rows of
 * each kind as the refresh wrote, on the same table, indexes and pages. The statement runs in a
 * transaction that is rolled back, so the stream table stays as the refresh left it.
 */
final class WriteFloor {
    private static final String BEFORE = "pgt_floor_before";

    private final Connection c;

    /** One measurement: the write-back's execution time, and how many stored rows it wrote. */
    record Measured(double millis, long rows) {
    }

    WriteFloor(Connection c) {
        this.c = c;
    }

    /** Copies the stored rows of {@code st} before its refresh. */
    void before(String st) throws SQLException {
        Sql.exec(c, "DROP TABLE IF EXISTS " + BEFORE);
        Sql.exec(c, "CREATE TEMP TABLE " + BEFORE + " AS SELECT * FROM " + st);
        Sql.exec(c, "CREATE UNIQUE INDEX ON " + BEFORE + " (__pgt_row_id)");
        Sql.exec(c, "ANALYZE " + BEFORE);
    }

    /**
     * Milliseconds PostgreSQL spent executing the statement that writes back, by key, the change the
     * refresh made to {@code st} since {@link #before} (its planning and the round trip left out, which
     * makes the floor lower still), and how many rows it wrote.
     */
    Measured measure(String st) throws SQLException {
        List<String> columns = Sql.strings(c, "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = "
                + Sql.literal(st) + "::regclass AND attnum > 0 AND NOT attisdropped AND attname <> '__pgt_row_id' ORDER BY attnum");
        String list = String.join(", ", columns);
        Sql.exec(c, "DROP TABLE IF EXISTS pgt_floor_deleted, pgt_floor_inserted, pgt_floor_updated");
        Sql.exec(c, "CREATE TEMP TABLE pgt_floor_deleted AS SELECT b.* FROM " + BEFORE + " b WHERE NOT EXISTS (SELECT 1 FROM "
                + st + " a WHERE a.__pgt_row_id = b.__pgt_row_id)");
        Sql.exec(c, "CREATE TEMP TABLE pgt_floor_inserted AS SELECT a.__pgt_row_id FROM " + st + " a WHERE NOT EXISTS (SELECT 1 FROM "
                + BEFORE + " b WHERE b.__pgt_row_id = a.__pgt_row_id)");
        Sql.exec(c, "CREATE TEMP TABLE pgt_floor_updated AS SELECT b.* FROM " + BEFORE + " b JOIN " + st
                + " a ON a.__pgt_row_id = b.__pgt_row_id WHERE ROW(" + prefixed("a", columns) + ") IS DISTINCT FROM ROW("
                + prefixed("b", columns) + ")");
        for (String t : List.of("pgt_floor_deleted", "pgt_floor_inserted", "pgt_floor_updated")) {
            Sql.exec(c, "ANALYZE " + t);
        }
        long written = Sql.number(c, "SELECT (SELECT count(*) FROM pgt_floor_deleted) + (SELECT count(*) FROM pgt_floor_inserted)"
                + " + (SELECT count(*) FROM pgt_floor_updated)");
        String writeBack = "WITH d AS (DELETE FROM " + st + " t USING pgt_floor_inserted i WHERE t.__pgt_row_id = i.__pgt_row_id),"
                + " u AS (UPDATE " + st + " t SET (" + list + ") = ROW(" + prefixed("o", columns) + ") FROM pgt_floor_updated o"
                + " WHERE t.__pgt_row_id = o.__pgt_row_id)"
                + " INSERT INTO " + st + " (__pgt_row_id, " + list + ") SELECT __pgt_row_id, " + list + " FROM pgt_floor_deleted";
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            // the stream table's guard lets the engine's own writes through
            Sql.exec(c, "SET LOCAL pg_trickle.internal_refresh = on");
            // the execution alone, as PostgreSQL times it: no planning, no round trip
            for (String line : Sql.strings(c, "EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) " + writeBack)) {
                if (line.startsWith("Execution Time: ")) {
                    return new Measured(Double.parseDouble(line.substring("Execution Time: ".length()).replace(" ms", "")), written);
                }
            }
            throw new SQLException("EXPLAIN ANALYZE printed no execution time");
        } finally {
            c.rollback();
            c.setAutoCommit(auto);
        }
    }

    private static String prefixed(String alias, List<String> columns) {
        return columns.stream().map(x -> alias + "." + x).collect(Collectors.joining(", "));
    }
}
