package io.pgtrickle.core.dvm.op;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Function;

/**
 * A query with {@code WITH RECURSIVE}. Its rows are stored as one partition (as for {@link TopK}).
 *
 * <p>When the query is a linear recursion with set semantics over plain joins, {@code WITH RECURSIVE
 * r(c...) AS (base UNION step) SELECT c... FROM r} where neither term has a subquery, an aggregate,
 * DISTINCT, an outer join or a window, and the step reads {@code r} once, it is {@link Incremental}:
 * a refresh derives only what the changes reach (the compiler's {@code RecursiveSql}): the stored
 * rows that lost a derivation are over-deleted through the previous state, those still derivable are
 * rederived, and new rows are derived semi-naively from the inserted source rows. Otherwise the
 * query is re-run when a source changed and only the rows that differ are written.
 *
 * @param query       the query as written
 * @param columns     its output column names
 * @param sources     the relids whose changes re-run it (set by the compiler)
 * @param incremental the terms of a linear recursion, or null
 * @param why         why it is re-run rather than derived incrementally, when {@code incremental} is null
 */
public record RecursiveCte(String query, List<String> columns, List<Long> sources, Incremental incremental, String why)
        implements WholeRecompute {
    public RecursiveCte {
        columns = List.copyOf(columns);
        sources = List.copyOf(sources);
    }

    @Override
    public RecursiveCte withSources(List<Long> relids) {
        return new RecursiveCte(query, columns, relids, incremental, why);
    }

    /** The recursion {@code name(cteColumns) AS (base UNION step)}. */
    public record Incremental(String name, List<String> cteColumns, Term base, Term step) {
        /** Every source table read by the terms, once each. */
        public List<Scan> scans() {
            List<Scan> out = new ArrayList<>();
            for (Term t : List.of(base, step)) {
                t.slots().stream().filter(s -> !s.self()).map(Slot::scan)
                        .filter(s -> out.stream().noneMatch(o -> o.relid() == s.relid())).forEach(out::add);
            }
            return out;
        }
    }

    /**
     * One term, {@code SELECT items FROM from WHERE where}, cut from the query text; the FROM items
     * that read a table or the recursion itself are {@link Slot}s, replaced when rendered.
     */
    public record Term(List<String> items, String from, List<Slot> slots, String where) {
        public Term {
            items = List.copyOf(items);
            slots = List.copyOf(slots);
        }

        /**
         * The term with each slot read as {@code item} says (a relation's text, aliased as the slot
         * was), its items cast to {@code types} and named {@code names}, plus {@code __pgt_id}: the
         * row identity {@code rowId} gives the cast items; {@code condition} (over that identity
         * expression, or null) is added to WHERE.
         */
        public String render(Function<Slot, String> item, List<String> names, List<String> types,
                             Function<List<String>, String> rowId, Function<String, String> condition) {
            StringBuilder b = new StringBuilder(from);
            List<Slot> backwards = slots.stream().sorted(Comparator.comparingInt(Slot::begin).reversed()).toList();
            for (Slot s : backwards) {
                b.replace(s.begin(), s.end(), item.apply(s) + " " + s.alias());
            }
            List<String> typed = new ArrayList<>();
            List<String> select = new ArrayList<>();
            for (int i = 0; i < items.size(); i++) {
                typed.add("(" + items.get(i) + ")::" + types.get(i));
                select.add(typed.get(i) + " AS " + names.get(i));
            }
            String id = rowId.apply(typed);
            select.add(id + " AS __pgt_id");
            String cond = condition == null ? null : condition.apply(id);
            String w = where == null ? cond : cond == null ? where : "(" + where + ") AND " + cond;
            return "SELECT " + String.join(", ", select) + " FROM " + b + (w == null ? "" : " WHERE " + w);
        }
    }

    /**
     * A FROM item of a term: a source table ({@code scan}) or the recursive reference ({@code scan}
     * null), at {@code [begin, end)} of the term's FROM text, under {@code alias}.
     */
    public record Slot(int begin, int end, String alias, Scan scan) {
        public boolean self() {
            return scan == null;
        }
    }

    @Override
    public String describe() {
        return "RecursiveCte" + (incremental == null ? "" : " " + incremental.name() + " (" + String.join(", ", incremental.cteColumns()) + ")");
    }

    @Override
    public String strategy() {
        return incremental != null
                ? "recursive: over-delete what lost a derivation, rederive, derive new rows semi-naively from the inserted rows"
                : "recursive, recomputed when a source changed (" + why + "); only rows that differ are written";
    }
}
