package io.pgtrickle.core.cdc;

import io.pgtrickle.core.sql.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The SQL of a batched change buffer: a store table that holds one row per statement, action and
 * chunk of up to {@link #CHUNK_ROWS} rows, with one array per captured column, and a view that
 * unnests it into one row per changed row, the layout every reader of a buffer uses.
 *
 * <p>Why batches: a row per changed row costs a heap-insert record (about 54 bytes of headers)
 * plus the tuple in WAL, which nearly doubled the WAL of a bulk statement; an array per column is
 * one TOASTed value per chunk, and brings the extra WAL of a 10,000-row statement to a tenth or
 * less (arrays of fixed-width types are stored uncompressed: routines.sql, _buffer_storage). Chunks
 * bound each array far below PostgreSQL's 1 GB limit on a value.
 *
 * <p>Array-typed source columns are stored as the text of each value ({@code array_agg} of arrays
 * would make one multi-dimensional array and fails on arrays of different shapes), and so are
 * composite-typed ones ({@code unnest} of several arrays spreads a composite element into its
 * fields, shifting the columns after it); the view casts them back. The capture function pins the
 * output settings that text depends on.
 */
final class BatchedBuffer {
    /** Rows per stored batch: large enough that headers vanish, small enough for memory and TOAST. */
    static final int CHUNK_ROWS = 10_000;

    /** The number of rows in a batch (NULL for the marker actions T and P). */
    static final String ROWS = "__pgt_n";

    /**
     * The view's inner column that gives each batch its rows: {@code __pgt_n} of them, one for a
     * marker. A view without it is of an earlier form.
     */
    static final String ROW_SOURCE = "__pgt_rows";

    /** Output settings that the text of stored values depends on, and their values while writing it. */
    static final java.util.Map<String, String> PINNED = new java.util.LinkedHashMap<>();

    static {
        PINNED.put("DateStyle", "ISO, YMD");
        PINNED.put("IntervalStyle", "postgres");
        PINNED.put("extra_float_digits", "3");
        PINNED.put("bytea_output", "hex");
    }

    /** {@link #PINNED} as the SET clauses of the capture function. */
    static final String PINNED_SETTINGS = PINNED.entrySet().stream()
            .map(e -> "SET " + e.getKey() + " = " + Sql.literal(e.getValue())).collect(Collectors.joining(" "));

    private BatchedBuffer() {
    }

    /**
     * The index of the store by writer xid. Every reader asks for a window of xids (a refresh for
     * the changes after its frontier, pruning for those before every reader's frontier), and a
     * buffer that one slow reader keeps long would otherwise be read whole by every refresh of the
     * others. One entry per batch, not per changed row: a single-row statement pays one entry.
     */
    static String createXidIndex(String store) {
        return "CREATE INDEX ON " + store + " (" + ChangeCapture.XID + ")";
    }

    /** The store table's DDL, without the captured columns' order mattering to any reader. */
    static String createStore(String store, List<ChangeCapture.SourceColumn> columns) {
        StringBuilder ddl = new StringBuilder("CREATE TABLE ").append(store).append(" (\n")
                .append("    ").append(ChangeCapture.XID).append(" xid8 NOT NULL DEFAULT pg_current_xact_id(),\n")
                .append("    ").append(ChangeCapture.ACTION).append(" \"char\" NOT NULL,\n")
                .append("    ").append(ROWS).append(" integer");
        for (ChangeCapture.SourceColumn c : columns) {
            ddl.append(",\n    ").append(Sql.quoteIdent(c.name())).append(' ').append(storedType(c));
        }
        return ddl.append(')').toString();
    }

    /** The column a source column is stored in: an array of its type, or of its text. */
    static String storedType(ChangeCapture.SourceColumn c) {
        return c.storedAsText() ? "text[]" : c.type() + "[]";
    }

    /**
     * The view in row layout: one row per changed row ({@code __pgt_xid}, {@code __pgt_action} and
     * the captured columns), and one row with NULL columns for each marker. {@code columns} in the
     * store's column order, so that widening only appends (CREATE OR REPLACE VIEW allows no other).
     *
     * <p>The arrays are unnested in the select list (a ProjectSet), not by {@code LEFT JOIN LATERAL
     * unnest(...)}: a function scan first copies every unnested row into a tuplestore, and reading
     * the 1,500 change rows of a refresh took 2.1 ms that way, 1.4 ms this way. Set-returning
     * functions of a select list run in lockstep, the shorter padded with NULLs, so {@link
     * #ROW_SOURCE} (an array of {@code __pgt_n} NULLs, one for a marker) makes every batch exactly
     * its rows: a column the buffer gained after a batch was written, whose array is NULL there,
     * reads NULL in each of them, and a marker reads one row of NULLs.
     */
    static String createView(String view, String store, List<ChangeCapture.SourceColumn> columns) {
        // A column's collation is the source's: readers compare and group changed rows as the
        // defining query compares and groups the source's rows.
        String out = columns.stream().map(c -> ", u." + Sql.quoteIdent(c.name())
                        + (c.storedAsText() ? "::" + c.type() : "")
                        + (c.collation() == null ? "" : " COLLATE " + c.collation())
                        + (c.storedAsText() || c.collation() != null ? " AS " + Sql.quoteIdent(c.name()) : ""))
                .collect(Collectors.joining());
        String unnested = columns.stream()
                .map(c -> ", unnest(b." + Sql.quoteIdent(c.name()) + ") AS " + Sql.quoteIdent(c.name()))
                .collect(Collectors.joining());
        return "CREATE OR REPLACE VIEW " + view + " AS SELECT u." + ChangeCapture.XID + ", u." + ChangeCapture.ACTION + out
                + " FROM (SELECT b." + ChangeCapture.XID + ", b." + ChangeCapture.ACTION
                + ", unnest(array_fill(NULL::int, ARRAY[greatest(coalesce(b." + ROWS + ", 1), 1)])) AS " + ROW_SOURCE + unnested
                + " FROM " + store + " b) u";
    }

    /**
     * The INSERT that stores the rows of a transition table as batches of action {@code action}
     * ('I' or 'D'), stamped with the writer's xid; no row for an empty transition table.
     */
    static String insertBatches(String store, List<ChangeCapture.SourceColumn> columns, String transitionTable, char action) {
        return insert(store, columns, transitionTable, "'" + action + "'", false, null);
    }

    /**
     * The INSERT that stores the change rows of {@code rows} (a FROM item with the columns
     * {@code __pgt_xid}, {@code __pgt_action} and the column {@code order}) as batches per xid and
     * action, each array in the order of {@code order}: the conversion of a buffer of the row layout.
     */
    static String insertBatchesOf(String store, List<ChangeCapture.SourceColumn> columns, String rows, String order) {
        return insert(store, columns, rows, "r." + ChangeCapture.ACTION, true, order);
    }

    /**
     * Batches of at most {@link #CHUNK_ROWS} rows of {@code rows}, read as {@code r}: one per chunk,
     * and per xid and action when {@code perXid} (otherwise the writer's xid and {@code action}).
     */
    private static String insert(String store, List<ChangeCapture.SourceColumn> columns, String rows, String action,
                                 boolean perXid, String order) {
        String keys = perXid ? ChangeCapture.XID + ", " + ChangeCapture.ACTION : "";
        String inner = order == null ? "" : " ORDER BY " + order;
        String outer = order == null ? "" : " ORDER BY r." + order;
        String targets = columns.stream().map(c -> ", " + Sql.quoteIdent(c.name())).collect(Collectors.joining());
        String aggregates = columns.stream()
                .map(c -> ", array_agg(r." + Sql.quoteIdent(c.name()) + (c.storedAsText() ? "::text" : "") + outer + ")")
                .collect(Collectors.joining());
        String picked = columns.stream().map(c -> Sql.quoteIdent(c.name()) + ", ").collect(Collectors.joining())
                + (perXid ? keys + ", " : "") + (order == null ? "" : order + ", ");
        return "INSERT INTO " + store + " (" + (perXid ? ChangeCapture.XID + ", " : "") + ChangeCapture.ACTION + ", " + ROWS
                + targets + ") SELECT " + (perXid ? "r." + ChangeCapture.XID + ", " : "") + action + ", count(*)" + aggregates
                + " FROM (SELECT " + picked + "(row_number() OVER (" + (perXid ? "PARTITION BY " + keys : "") + inner
                + ") - 1) / " + CHUNK_ROWS + " AS __pgt_chunk FROM " + rows + ") r GROUP BY "
                + (perXid ? "r." + ChangeCapture.XID + ", r." + ChangeCapture.ACTION + ", " : "") + "r.__pgt_chunk";
    }
}
