package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.Sql;
import io.pgtrickle.core.sql.TextForms;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The one statement that applies a set of changes (one row per row id: action D, or I with the new
 * values) to a storage table, for FULL and DIFFERENTIAL alike: on PostgreSQL 18 and later a MERGE
 * inside WITH that compares each matched row with its new values itself and returns the old and
 * the new row, so the storage table is joined once; before 18 (where MERGE cannot return the old
 * row) the changes are first joined with the storage table to know which rows exist and changed,
 * then applied as deletes, updates and inserts in writable CTEs over one snapshot. An update is
 * skipped when nothing a reader could see changed: values are compared through their text, so that
 * e.g. 1.0 and 1.00 count as a change, except where equal values always print alike. Returns (rows
 * inserted, rows deleted), an update of visible values counting as one of each.
 */
public final class ApplySql {
    private ApplySql() {
    }

    /** The first PostgreSQL version whose MERGE can return the old row (RETURNING WITH (OLD AS ...)). */
    public static final int MERGE_RETURNING_OLD_VERSION = 180000;

    public static String render(QualifiedName table, List<StorageColumn> columns, String changesSql, int serverVersionNum) {
        String st = table.quoted();
        List<StorageColumn> visible = visible(columns);
        List<String> names = names(columns);
        String set = assignments(names);
        if (serverVersionNum >= MERGE_RETURNING_OLD_VERSION) {
            return "WITH c AS MATERIALIZED (" + changesSql + "),"
                    + " m AS (MERGE INTO " + st + " t USING c ON t.__pgt_row_id = c.__pgt_row_id"
                    + " WHEN MATCHED AND c.__pgt_action = 'D' THEN DELETE"
                    + " WHEN MATCHED AND c.__pgt_action = 'I' AND (" + differs(columns, "t", "c") + ") THEN UPDATE SET " + set
                    + " WHEN NOT MATCHED AND c.__pgt_action = 'I' THEN " + insert(names) + countedReturning(visible);
        }
        return "WITH c0 AS MATERIALIZED (" + changesSql + "),"
                + " c AS MATERIALIZED (SELECT c0.*, s.__pgt_row_id IS NOT NULL AS __pgt_exists,"
                + " (s.__pgt_row_id IS NOT NULL AND (" + differs(visible, "s", "c0") + ")) AS __pgt_vis_changed,"
                + " (s.__pgt_row_id IS NOT NULL AND (" + differs(columns, "s", "c0") + ")) AS __pgt_changed"
                + " FROM c0 LEFT JOIN " + st + " s ON s.__pgt_row_id = c0.__pgt_row_id),"
                + " d AS (DELETE FROM " + st + " t USING c WHERE t.__pgt_row_id = c.__pgt_row_id"
                + " AND c.__pgt_action = 'D' RETURNING 1),"
                + " u AS (UPDATE " + st + " t SET " + set + " FROM c WHERE t.__pgt_row_id = c.__pgt_row_id"
                + " AND c.__pgt_action = 'I' AND c.__pgt_changed RETURNING c.__pgt_vis_changed AS v),"
                + " i AS (INSERT INTO " + st + " (" + String.join(", ", names) + ", __pgt_row_id) SELECT " + changeValues(names)
                + ", c.__pgt_row_id FROM c WHERE c.__pgt_action = 'I' AND NOT c.__pgt_exists RETURNING 1)"
                + " SELECT (SELECT count(*) FROM i) + (SELECT count(*) FROM u WHERE v),"
                + " (SELECT count(*) FROM d) + (SELECT count(*) FROM u WHERE v)";
    }

    /**
     * The end of a MERGE named {@code m} inside WITH (PostgreSQL 18 and later) and the statement's
     * select: (rows inserted, rows deleted), an update of visible values counting as one of each.
     */
    static String countedReturning(List<StorageColumn> visible) {
        return " RETURNING WITH (OLD AS __pgt_old, NEW AS __pgt_new) merge_action() AS a, ("
                + differs(visible, "__pgt_old", "__pgt_new") + ") AS v)"
                + " SELECT count(*) FILTER (WHERE a = 'INSERT' OR (a = 'UPDATE' AND v)),"
                + " count(*) FILTER (WHERE a = 'DELETE' OR (a = 'UPDATE' AND v)) FROM m";
    }

    /**
     * The statement of a FULL refresh: the storage table made equal to {@code fullSql} (every row of
     * the query with its row id), writing only the rows that differ. On PostgreSQL 18 and later one
     * MERGE joins the query with the stored rows once and deletes those it no longer has (WHEN NOT
     * MATCHED BY SOURCE); before, {@link #fullChanges} lists the query's rows and, by an anti-join of
     * the stored rows with them, the deletions, for {@link #render}. The one MERGE reads the query
     * once, without materializing it: 415 against 315 ms for a 100,000-row filter of 1,000,000 rows
     * (bench's filter scenario, the statement alone, before the fence). The query is fenced
     * ({@code OFFSET 0}): as the outer side of the MERGE's full join, flattened, PostgreSQL computed
     * its select list where the table is scanned, before its WHERE, and a subquery there failed on
     * rows the query filters out ({@code SELECT id, (SELECT label FROM tag g WHERE g.k = t.k) FROM t
     * WHERE EXISTS (…)}: 21000). Fenced, the bench's filter refresh took 177 / 174 ms against 204 /
     * 196. (The CTE of {@link #fullChanges} is MATERIALIZED, computed apart already.)
     */
    public static String full(QualifiedName table, List<StorageColumn> columns, String fullSql, int serverVersionNum) {
        if (serverVersionNum < MERGE_RETURNING_OLD_VERSION) {
            return render(table, columns, fullChanges(table, columns, fullSql), serverVersionNum);
        }
        List<String> names = names(columns);
        return "WITH m AS (MERGE INTO " + table.quoted() + " t USING (SELECT * FROM (" + fullSql + ") __pgt_q OFFSET 0) c"
                + " ON t.__pgt_row_id = c.__pgt_row_id"
                + " WHEN MATCHED AND (" + differs(columns, "t", "c") + ") THEN UPDATE SET " + assignments(names)
                + " WHEN NOT MATCHED THEN " + insert(names)
                + " WHEN NOT MATCHED BY SOURCE THEN DELETE" + countedReturning(visible(columns));
    }

    private static List<StorageColumn> visible(List<StorageColumn> columns) {
        return columns.stream().filter(StorageColumn::visible).toList();
    }

    private static List<String> names(List<StorageColumn> columns) {
        return columns.stream().map(c -> Sql.quoteIdent(c.name())).toList();
    }

    /** {@code name = c.name, ...}: a stored row's columns set from the change {@code c}. */
    private static String assignments(List<String> names) {
        return names.stream().map(n -> n + " = c." + n).collect(Collectors.joining(", "));
    }

    /** A MERGE's INSERT of the change {@code c}, with its row id. */
    private static String insert(List<String> names) {
        return "INSERT (" + String.join(", ", names) + ", __pgt_row_id) VALUES (" + changeValues(names) + ", c.__pgt_row_id)";
    }

    /** {@code c.name, ...}: the change {@code c}'s values of the columns. */
    private static String changeValues(List<String> names) {
        return names.stream().map(n -> "c." + n).collect(Collectors.joining(", "));
    }

    /** The changes of a FULL refresh: every row of the query, and a deletion for every stored row it no longer has. */
    static String fullChanges(QualifiedName table, List<StorageColumn> columns, String fullSql) {
        String cols = columns.stream().map(c -> "f." + Sql.quoteIdent(c.name())).collect(Collectors.joining(", "));
        String nulls = columns.stream().map(c -> "NULL::" + c.type()).collect(Collectors.joining(", "));
        return "WITH f AS MATERIALIZED (" + fullSql + ") SELECT f.__pgt_row_id, 'I'::text AS __pgt_action, " + cols
                + " FROM f UNION ALL SELECT s.__pgt_row_id, 'D', " + nulls + " FROM " + table.quoted()
                + " s WHERE NOT EXISTS (SELECT 1 FROM f WHERE f.__pgt_row_id = s.__pgt_row_id)";
    }

    /** Whether any of {@code columns} differs between the rows {@code stored} and {@code fresh}. */
    private static String differs(List<StorageColumn> columns, String stored, String fresh) {
        if (columns.isEmpty()) {
            return "false";
        }
        return columns.stream().map(c -> differs(c, stored, fresh)).collect(Collectors.joining(" OR "));
    }

    /**
     * Whether the stored value of {@code c} differs from the new one as a reader would see it. By
     * value where equal values print alike and the type has no collation (no text is made: a
     * refresh of 1,000 aggregate groups compares thousands of values); else by text, byte for byte
     * (in "C": a nondeterministic collation would take 'a' and 'A' for the same).
     */
    private static String differs(StorageColumn c, String stored, String fresh) {
        String a = stored + "." + Sql.quoteIdent(c.name());
        String b = fresh + "." + Sql.quoteIdent(c.name());
        if (c.collation() == null && TextForms.oneText(c.type()) && !TextForms.collatable(c.type())) {
            return a + " IS DISTINCT FROM " + b;
        }
        return a + "::text COLLATE \"C\" IS DISTINCT FROM " + b + "::text COLLATE \"C\"";
    }
}
