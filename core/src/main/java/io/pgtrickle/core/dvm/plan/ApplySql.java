package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.Sql;
import io.pgtrickle.core.sql.TextForms;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The one statement that applies a set of changes (one row per row id: action D, or I with the new
 * values) to a storage table, for FULL and DIFFERENTIAL alike: a MERGE on PostgreSQL 17 and later
 * (which can run inside WITH and return each row's action), and the same deletes, updates and
 * inserts as writable CTEs over one snapshot on 15 and 16, where MERGE can do neither. An update is
 * skipped when nothing a reader could see changed: values are compared through their text, so that
 * e.g. 1.0 and 1.00 count as a change, except where equal values always print alike. Returns (rows inserted, rows deleted), an update of visible values counting as one of
 * each.
 */
public final class ApplySql {
    private ApplySql() {
    }

    /** The first PostgreSQL version whose MERGE can run inside WITH and has RETURNING merge_action(). */
    public static final int MERGE_IN_CTE_VERSION = 170000;

    public static String render(QualifiedName table, List<StorageColumn> columns, String changesSql, int serverVersionNum) {
        String st = table.quoted();
        List<String> names = columns.stream().map(c -> Sql.quoteIdent(c.name())).toList();
        String visibleDiffers = differs(columns.stream().filter(StorageColumn::visible).toList());
        String anyDiffers = differs(columns);
        String set = names.stream().map(n -> n + " = c." + n).collect(Collectors.joining(", "));
        String insertCols = String.join(", ", names);
        String insertValues = names.stream().map(n -> "c." + n).collect(Collectors.joining(", "));
        String prepared = "WITH c0 AS MATERIALIZED (" + changesSql + "),"
                + " c AS MATERIALIZED (SELECT c0.*, s.__pgt_row_id IS NOT NULL AS __pgt_exists,"
                + " (s.__pgt_row_id IS NOT NULL AND (" + visibleDiffers + ")) AS __pgt_vis_changed,"
                + " (s.__pgt_row_id IS NOT NULL AND (" + anyDiffers + ")) AS __pgt_changed"
                + " FROM c0 LEFT JOIN " + st + " s ON s.__pgt_row_id = c0.__pgt_row_id),";
        if (serverVersionNum >= MERGE_IN_CTE_VERSION) {
            return prepared
                    + " m AS (MERGE INTO " + st + " t USING c ON t.__pgt_row_id = c.__pgt_row_id"
                    + " WHEN MATCHED AND c.__pgt_action = 'D' THEN DELETE"
                    + " WHEN MATCHED AND c.__pgt_action = 'I' AND c.__pgt_changed THEN UPDATE SET " + set
                    + " WHEN NOT MATCHED AND c.__pgt_action = 'I' THEN INSERT (" + insertCols + ", __pgt_row_id) VALUES ("
                    + insertValues + ", c.__pgt_row_id)"
                    + " RETURNING merge_action() AS a, c.__pgt_vis_changed AS v)"
                    + " SELECT count(*) FILTER (WHERE a = 'INSERT' OR (a = 'UPDATE' AND v)),"
                    + " count(*) FILTER (WHERE a = 'DELETE' OR (a = 'UPDATE' AND v)) FROM m";
        }
        return prepared
                + " d AS (DELETE FROM " + st + " t USING c WHERE t.__pgt_row_id = c.__pgt_row_id"
                + " AND c.__pgt_action = 'D' RETURNING 1),"
                + " u AS (UPDATE " + st + " t SET " + set + " FROM c WHERE t.__pgt_row_id = c.__pgt_row_id"
                + " AND c.__pgt_action = 'I' AND c.__pgt_changed RETURNING c.__pgt_vis_changed AS v),"
                + " i AS (INSERT INTO " + st + " (" + insertCols + ", __pgt_row_id) SELECT " + insertValues
                + ", c.__pgt_row_id FROM c WHERE c.__pgt_action = 'I' AND NOT c.__pgt_exists RETURNING 1)"
                + " SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM u WHERE v),"
                + " (SELECT count(*) FROM d) + (SELECT count(*) FROM u WHERE v)";
    }

    /** The changes of a FULL refresh: every row of the query, and a deletion for every stored row it no longer has. */
    public static String fullChanges(QualifiedName table, List<StorageColumn> columns, String fullSql) {
        String cols = columns.stream().map(c -> "f." + Sql.quoteIdent(c.name())).collect(Collectors.joining(", "));
        String nulls = columns.stream().map(c -> "NULL::" + c.type()).collect(Collectors.joining(", "));
        return "WITH f AS MATERIALIZED (" + fullSql + ") SELECT f.__pgt_row_id, 'I'::text AS __pgt_action, " + cols
                + " FROM f UNION ALL SELECT s.__pgt_row_id, 'D', " + nulls + " FROM " + table.quoted()
                + " s WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.__pgt_row_id = s.__pgt_row_id)";
    }

    private static String differs(List<StorageColumn> columns) {
        if (columns.isEmpty()) {
            return "false";
        }
        return columns.stream().map(ApplySql::differs).collect(Collectors.joining(" OR "));
    }

    /**
     * Whether the stored value of {@code c} differs from the new one as a reader would see it. By
     * value where equal values print alike and the type has no collation (no text is made: a
     * refresh of 1,000 aggregate groups compares thousands of values); else by text, byte for byte
     * (in "C": a nondeterministic collation would take 'a' and 'A' for the same).
     */
    private static String differs(StorageColumn c) {
        String stored = "s." + Sql.quoteIdent(c.name());
        String fresh = "c0." + Sql.quoteIdent(c.name());
        if (c.collation() == null && TextForms.oneText(c.type()) && !TextForms.collatable(c.type())) {
            return stored + " IS DISTINCT FROM " + fresh;
        }
        return stored + "::text COLLATE \"C\" IS DISTINCT FROM " + fresh + "::text COLLATE \"C\"";
    }
}
