package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Project;

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

    /**
     * The output columns that identify a row ({@link Project#uniqueKey}); empty when rows can repeat.
     * Subqueries in the WHERE clause or the list do not change that: a condition only keeps or drops
     * a row, and a scalar subquery gives a row one value (or fails), so the rows are still those of
     * the keyed table, at most once each. Their delta takes the general path (re-evaluating the
     * rows whose subquery's sources changed), whose net change per content is exact, and the keyed
     * step keeps per key the new content over the old, as for any other delta.
     */
    static java.util.List<String> key(LinearOperator root) {
        return root instanceof Project p && p.uniqueRows() ? p.uniqueKey() : java.util.List.of();
    }
}
