package io.pgtrickle.core.refresh;

import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.ResolvedQuery.OutputColumn;
import io.pgtrickle.core.sql.Sql;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The compiled SQL of a FULL refresh, stored in the catalog and executed by
 * {@code pgtrickle._refresh} without re-parsing.
 *
 * <p>Row identity: {@code __pgt_row_id} is a 64-bit hash of the row's content, and identical rows
 * (a query may return duplicates) are told apart by their ordinal among equals. An unchanged row
 * therefore keeps its id across refreshes, and the apply touches only rows that appeared or
 * disappeared: one statement, deleting ids no longer produced and inserting new ones, which also
 * yields the inserted and deleted counts. Types without a hash function (json, point ...) are
 * hashed through their text form.
 *
 * @param selectSql the query with row ids: {@code __pgt_row_id} followed by the user's columns
 * @param applySql  one statement returning (rows_inserted, rows_deleted)
 */
public record FullRefreshSql(String selectSql, String applySql) {

    public static final String ROW_ID = "__pgt_row_id";

    public static FullRefreshSql compile(QualifiedName storage, String query, List<OutputColumn> columns) {
        String cols = columns.stream().map(c -> "q." + Sql.quoteIdent(c.name())).collect(Collectors.joining(", "));
        String hashed = columns.stream()
                .map(c -> c.hashable() ? "q." + Sql.quoteIdent(c.name()) : "q." + Sql.quoteIdent(c.name()) + "::text")
                .collect(Collectors.joining(", "));
        String plainCols = columns.stream().map(c -> Sql.quoteIdent(c.name())).collect(Collectors.joining(", "));
        // ROW(x) of a single column is still a record; hash_record_extended needs one.
        String select = """
                SELECT hashint8extended(h.__pgt_h, row_number() OVER (PARTITION BY h.__pgt_h) - 1) AS %1$s, %2$s
                  FROM (SELECT hash_record_extended(ROW(%3$s), 0) AS __pgt_h, %4$s
                          FROM (%5$s) q) h""".formatted(ROW_ID,
                columns.stream().map(c -> "h." + Sql.quoteIdent(c.name())).collect(Collectors.joining(", ")),
                hashed, cols, query);
        String table = storage.quoted();
        String apply = """
                WITH n AS MATERIALIZED (%1$s),
                     d AS (DELETE FROM %2$s t WHERE NOT EXISTS (SELECT 1 FROM n WHERE n.%3$s = t.%3$s) RETURNING 1),
                     i AS (INSERT INTO %2$s (%4$s, %3$s)
                           SELECT %4$s, n.%3$s FROM n
                            WHERE NOT EXISTS (SELECT 1 FROM %2$s t WHERE t.%3$s = n.%3$s)
                           RETURNING 1)
                SELECT (SELECT count(*) FROM i), (SELECT count(*) FROM d)""".formatted(select, table, ROW_ID, plainCols);
        return new FullRefreshSql(select, apply);
    }
}
