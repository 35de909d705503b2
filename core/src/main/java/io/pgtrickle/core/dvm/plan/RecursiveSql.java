package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.RecursiveCte.Incremental;
import io.pgtrickle.core.dvm.op.RecursiveCte.Slot;
import io.pgtrickle.core.dvm.op.RecursiveCte.Term;
import io.pgtrickle.core.dvm.op.RowSource;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The changes of a linear recursion with set semantics, {@code r = base ∪ step(r)}, stored as the
 * set of its rows (ST), derived from the changes of its sources by delete-and-rederive (DRed) and
 * semi-naive insertion, each phase a recursive CTE:
 * <ol>
 *   <li><b>over-delete</b> ({@code __pgt_od}): every stored row with a derivation that used a
 *       deleted source row, evaluated over the previous state, and everything derived from those;</li>
 *   <li><b>rederive</b> ({@code __pgt_rd}): the over-deleted rows that the current sources still
 *       derive, from the base or from stored rows that were not over-deleted, and from each other;
 *       {@code __pgt_gone} = over-deleted and not rederived;</li>
 *   <li><b>insert</b> ({@code __pgt_n}): the rows derived with an inserted source row from the
 *       remaining stored rows (ST without {@code __pgt_gone}), and everything derived from those,
 *       pruned at rows the remaining rows already hold.</li>
 * </ol>
 * The result: {@code __pgt_n} inserted, {@code __pgt_gone} minus {@code __pgt_n} deleted. Each
 * phase substitutes relations for the slots of the terms as the query wrote them: a source's
 * previous state, current state, or its inserted or deleted rows (one slot at a time, the others
 * in their state: a join's delta over at least one changed row), and for the recursive reference
 * the stored rows or the phase's own CTE. A row is matched to a stored one by its identity, the
 * hash of its content, which the stored row carries as {@code __pgt_row_id}.
 */
final class RecursiveSql {
    private final Incremental recursion;
    private final QualifiedName storage;
    private final List<String> storageColumns;
    private final List<String> cteColumns;
    private final List<String> types;
    private final Function<List<String>, String> rowId;
    private final String part;
    private final RowSource.Changes changes;

    /**
     * @param visible the stored visible columns: the recursive table's columns, in order
     * @param rowId   the identity of a row of the given (typed) column values
     * @param part    the value of the stored {@code __pgt_part0}
     */
    RecursiveSql(Incremental recursion, QualifiedName storage, List<StorageColumn> visible, List<String> types,
                 Function<List<String>, String> rowId, String part, RowSource.Changes changes) {
        this.recursion = recursion;
        this.storage = storage;
        this.storageColumns = visible.stream().map(c -> Sql.quoteIdent(c.name())).toList();
        this.cteColumns = recursion.cteColumns().stream().map(Sql::quoteIdent).toList();
        this.types = List.copyOf(types);
        this.rowId = rowId;
        this.part = part;
        this.changes = changes;
    }

    String changes() {
        Term base = recursion.base();
        Term step = recursion.step();
        Function<Scan, String> old = s -> new RowSource.Old(changes).scan(s);
        Function<Scan, String> current = s -> new RowSource.Current().scan(s);

        List<String> od = new ArrayList<>(seeds(base, null, changes::deleted, old, null));
        od.addAll(seeds(step, stored(null), changes::deleted, old, null));
        String overDeleted = recursive(od, render(step, "__pgt_od", old, null, null, null));

        // (the engine's aliases inside these conditions are __pgt_*: the identity reads the user's aliases)
        Function<String, String> overDeletedOnly = id -> "EXISTS (SELECT 1 FROM __pgt_od __pgt_o WHERE __pgt_o.__pgt_id = " + id + ")"
                + " AND EXISTS (SELECT 1 FROM __pgt_od)";
        List<String> rd = List.of(render(base, null, current, null, null, overDeletedOnly),
                render(step, stored("__pgt_od"), current, null, null, overDeletedOnly));
        String rederived = recursive(rd, render(step, "__pgt_rd", current, null, null, overDeletedOnly));

        Function<String, String> notRemaining = id -> "(NOT EXISTS (SELECT 1 FROM " + storage.quoted() + " __pgt_s WHERE __pgt_s.__pgt_row_id = "
                + id + ") OR EXISTS (SELECT 1 FROM __pgt_gone __pgt_g WHERE __pgt_g.__pgt_id = " + id + "))";
        List<String> n = new ArrayList<>(seeds(base, null, changes::inserted, current, notRemaining));
        n.addAll(seeds(step, stored("__pgt_gone"), changes::inserted, current, notRemaining));
        String inserted = recursive(n, render(step, "__pgt_n", current, null, null, notRemaining));

        String nulls = types.stream().map(t -> "NULL::" + t).collect(Collectors.joining(", "));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < cteColumns.size(); i++) {
            out.add("n." + cteColumns.get(i) + " AS " + storageColumns.get(i));
        }
        return "WITH RECURSIVE __pgt_od AS (" + overDeleted + "), __pgt_rd AS (" + rederived + "),"
                + " __pgt_gone AS MATERIALIZED (SELECT o.* FROM __pgt_od o WHERE NOT EXISTS"
                + " (SELECT 1 FROM __pgt_rd r WHERE r.__pgt_id = o.__pgt_id)),"
                + " __pgt_n AS (" + inserted + ")"
                + " SELECT n.__pgt_id AS __pgt_row_id, 'I'::text AS __pgt_action, " + String.join(", ", out) + ", " + part
                + " AS __pgt_part0 FROM __pgt_n n"
                + " UNION ALL SELECT g.__pgt_id, 'D', " + nulls + ", NULL::bigint FROM __pgt_gone g"
                + " WHERE NOT EXISTS (SELECT 1 FROM __pgt_n n WHERE n.__pgt_id = g.__pgt_id)";
    }

    /** The stored rows under the recursive table's column names, without those in {@code except} (a CTE with {@code __pgt_id}). */
    private String stored(String except) {
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < cteColumns.size(); i++) {
            cols.add("s." + storageColumns.get(i) + " AS " + cteColumns.get(i));
        }
        return "(SELECT " + String.join(", ", cols) + " FROM " + storage.quoted() + " s"
                + (except == null ? "" : " WHERE NOT EXISTS (SELECT 1 FROM " + except + " x WHERE x.__pgt_id = s.__pgt_row_id)") + ")";
    }

    /** The seeds, or a typed empty row set when there are none, then UNION the recursive term. */
    private String recursive(List<String> seeds, String recursiveTerm) {
        List<String> arms = new ArrayList<>(seeds);
        if (arms.isEmpty()) {
            List<String> empty = new ArrayList<>();
            for (int i = 0; i < cteColumns.size(); i++) {
                empty.add("NULL::" + types.get(i) + " AS " + cteColumns.get(i));
            }
            arms.add("SELECT " + String.join(", ", empty) + ", NULL::bigint AS __pgt_id WHERE false");
        }
        arms.add(recursiveTerm);
        return String.join(" UNION ", arms);
    }

    /** The term once per source slot, that slot reading {@code delta}, the others {@code state}. */
    private List<String> seeds(Term t, String self, Function<Scan, String> delta, Function<Scan, String> state,
                               Function<String, String> condition) {
        List<String> out = new ArrayList<>();
        for (Slot slot : t.slots()) {
            if (!slot.self()) {
                out.add(render(t, self, state, slot, delta.apply(slot.scan()), condition));
            }
        }
        return out;
    }

    private String render(Term t, String self, Function<Scan, String> state, Slot changed, String changedSql,
                          Function<String, String> condition) {
        Function<Slot, String> item = s -> s.self() ? self : s == changed ? "(" + changedSql + ")" : "(" + state.apply(s.scan()) + ")";
        Function<String, String> cond = id -> {
            List<String> all = new ArrayList<>();
            if (condition != null) {
                all.add(condition.apply(id));
            }
            if (changed != null) {
                all.add("EXISTS (SELECT 1 FROM (" + changedSql + ") __pgt_any)"); // once: no scan when the source has no such change
            }
            return all.isEmpty() ? null : String.join(" AND ", all);
        };
        return t.render(item, cteColumns, types, rowId, cond);
    }
}
