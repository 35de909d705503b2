package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.Template;

/**
 * Whether every row of a query is unique by construction ({@link Project#uniqueRows}: a filter and
 * projection of one table that names its whole primary key, or of tables joined to it by their
 * whole primary keys). Such a result never holds two equal rows before or after any change, so a
 * content's net change in a window is -1 (it was stored, once) or +1 (it was not), and a refresh
 * need not count the stored rows equal to it. Such a row's identity is the hash of its key
 * columns: a change of its other values updates it in place instead of deleting it and inserting
 * another row.
 */
final class KeyedRows {
    private KeyedRows() {
    }

    /** The output columns that identify a row ({@link Project#uniqueKey}); empty when rows can repeat. */
    static java.util.List<String> key(LinearOperator root) {
        return root instanceof Project p && p.uniqueRows() && plain(p.list()) && (p.where() == null || plain(p.where()))
                ? p.uniqueKey() : java.util.List.of();
    }

    /** Without subqueries, whose deltas take the general path (kept to the simple case on purpose). */
    private static boolean plain(Template t) {
        return t.sublinks().isEmpty();
    }
}
