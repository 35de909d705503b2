package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The FROM clause of one SELECT, rendered together with that SELECT's list and WHERE so that the
 * user's expressions keep resolving their {@code alias.column} references and USING columns: the
 * join tree is printed back as written, each item replaced by the rows of the state asked for.
 *
 * <h2>The delta</h2>
 * The inputs of a SELECT are of two kinds. An item on a <em>preserved</em> path (every join above
 * it inner, cross, or it on the preserved side of an outer join) is <em>linear</em>: each of its
 * rows yields its output rows independently of the item's other rows. Everything else is a
 * <em>unit</em>: the null-supplying side of an outer join, a FULL join, a subquery in an expression.
 * With the linear items L₁…Lₙ and the units U₁…Uₘ, telescoping from the old to the new state one
 * input at a time gives exactly
 *
 * <pre>
 *   ΔQ = Σᵢ Q(L₍&lt;ᵢ₎⁰, ΔLᵢ, L₍&gt;ᵢ₎¹, U¹)                                      (linear in Lᵢ)
 *      + Σⱼ [ Q(L⁰, U₍&lt;ⱼ₎⁰, Uⱼ¹, U₍&gt;ⱼ₎¹) − Q(L⁰, U₍&lt;ⱼ₎⁰, Uⱼ⁰, U₍&gt;ⱼ₎¹) ] restricted to Rⱼ
 * </pre>
 *
 * where X¹ is the current state, X⁰ the state at the previous refresh, and Rⱼ a condition on the
 * row of the FROM clause that holds for every row whose result can differ between the two states of
 * Uⱼ (e.g. for {@code L LEFT JOIN B ON θ}: a changed row of B satisfies θ with the row's L part).
 * Rows outside Rⱼ are identical in both halves and cancel, so restricting changes nothing but the
 * cost. Linear items in the old state are Z-sets (current rows +1, changed rows with negated
 * weight); units in the old state are real relations ({@link RowSource.Old}), because an outer
 * join or a subquery must see which rows exist, not their sum. A joined row's weight is the product
 * of its items' weights. The result is exact for any mix of changes, with no clean-up pass:
 * consolidation at the apply adds up the weights.
 */
public record FromClause(FromNode root) {
    /** The most terms a delta may have for the split of {@link #linearTerms}. */
    static final int MAX_SPLIT_TERMS = 16;

    /** How one item is read in one term of the delta. */
    private enum State { NOW, BEFORE_Z, DELTA, BEFORE }

    /** A non-linear input: a null-supplying subtree, a FULL join, or a subquery. */
    private record Unit(FromNode node, Join join, Sublink sublink) {
        List<SingleFrom> items() {
            return node == null ? List.of() : node.items();
        }
    }

    public Operator operator() {
        return root.operator();
    }

    /**
     * {@code SELECT <list>, <weight> AS __pgt_w FROM ... [WHERE <where>]}: over the current or the
     * previous state of the sources, or their delta ({@link RowSource.Changes}).
     */
    public String select(Template list, Template where, RowSource rows) {
        if (rows instanceof RowSource.Changes changes) {
            return delta(list, where, changes);
        }
        boolean old = rows instanceof RowSource.Old;
        return term(list, where, i -> i.item().sql(rows), Set.of(), s -> old, old ? (RowSource.Old) rows : null, null, "");
    }

    /**
     * Whether the delta of {@code SELECT list FROM … WHERE where} holds each row of its one table at
     * most once removed (weight -1) and once added (+1): a table with a primary key, alone (its
     * changes are netted per row content, which includes the key) or with subqueries, whose terms
     * ({@link #ownStates}) give a row of the table its old and its new evaluation once each.
     * Equal contents then need no netting: a removed and an added row of one key are its old and new
     * values. The telescoping delta of anything else can hold a row several times.
     */
    public boolean deltaByRow(Template list, Template where) {
        List<SingleFrom> linear = new ArrayList<>();
        List<Unit> units = new ArrayList<>();
        inputs(list, where, linear, units);
        return soleKeyedTable(linear, units) != null;
    }

    /** The linear items and the units of the SELECT ({@link #classify}, then its subqueries). */
    private void inputs(Template list, Template where, List<SingleFrom> linear, List<Unit> units) {
        classify(root, linear, units);
        for (Template t : java.util.Arrays.asList(list, where)) {
            if (t != null) {  // a subquery that reads no table, (SELECT 1), never changes
                t.sublinks().stream().filter(s -> !s.tables().isEmpty()).forEach(s -> units.add(new Unit(null, null, s)));
            }
        }
    }

    private String delta(Template list, Template where, RowSource.Changes changes) {
        RowSource.Old old = new RowSource.Old(changes);
        RowSource now = new RowSource.Current();
        List<SingleFrom> linear = new ArrayList<>();
        List<Unit> units = new ArrayList<>();
        inputs(list, where, linear, units);
        SingleFrom keyed = units.isEmpty() ? null : soleKeyedTable(linear, units);
        if (keyed != null) {
            return union(ownStates(list, where, keyed, units, changes, old, now));
        }
        List<String> terms = linearTerms(list, where, linear, changes, old, now);
        for (int j = 0; j < units.size(); j++) {
            Unit unit = units.get(j);
            if (outerSide(unit) != null) {
                Set<SingleFrom> earlier = new HashSet<>();
                Set<Sublink> earlierSublinks = new HashSet<>();
                addUnits(units.subList(0, j), earlier, earlierSublinks);
                terms.addAll(outerJoinTerms(list, where, unit, linear, earlier, earlierSublinks, changes, old, now));
                continue;
            }
            String restriction = restriction(unit, changes);
            // the rows a changed row can matter to, found by the probe's equality: few, a probe each
            boolean probes = unit.sublink() != null && unit.sublink().probe() != null;
            for (boolean before : new boolean[] {false, true}) {
                Set<SingleFrom> earlier = new HashSet<>();
                Set<Sublink> earlierSublinks = new HashSet<>();
                // the units before this one, and this one in its second (previous-state) evaluation
                addUnits(units.subList(0, before ? j + 1 : j), earlier, earlierSublinks);
                terms.add(term(list, where, item -> sql(item,
                        linear.contains(item) ? State.BEFORE_Z : earlier.contains(item) ? State.BEFORE : State.NOW,
                        changes, old, now), earlier, earlierSublinks::contains, old, restriction, before ? "-" : "", null, probes,
                        null));
            }
        }
        if (terms.isEmpty()) { // only functions of constants: nothing ever changes
            return term(list, where, item -> sql(item, State.NOW, changes, old, now), Set.of(), s -> false, old, "false", "");
        }
        return union(terms);
    }

    private static String union(List<String> terms) {
        return terms.stream().map(t -> "(" + t + ")").collect(Collectors.joining(" UNION ALL "));
    }

    /**
     * The one table of a SELECT whose other inputs, if any, are all subqueries in expressions, when it
     * has a primary key (the query then reads it: see {@link Scan#key}); null otherwise. Its rows are
     * then told apart by the key, and with subqueries {@link #ownStates} evaluates each only for rows
     * of the state it reads.
     */
    private static SingleFrom soleKeyedTable(List<SingleFrom> linear, List<Unit> units) {
        boolean subqueriesOnly = units.stream().allMatch(u -> u.node() == null);
        return subqueriesOnly && linear.size() == 1 && linear.get(0).item() instanceof Scan s && !s.key().isEmpty()
                ? linear.get(0) : null;
    }

    /**
     * The delta of {@code SELECT … FROM L} with subqueries U₁…Uₘ in its expressions, L one table
     * with a primary key. The telescoping of {@link #delta} evaluates a removed row of L against U¹,
     * and in the units' terms an inserted one against U⁰ and any row against a mix of the units'
     * states (U₁⁰ with U₂¹): states in which such a row never was. A subquery there can fail
     * although the query never does: {@code (SELECT label FROM tag g WHERE g.k = t.k)} for a row
     * that left k = 5 after a second tag of 5 arrived raises 21000 ("more than one row"), and a
     * division by a count that is zero there fails too; with an EXISTS in WHERE that only the new
     * state passes, the list's subquery is even evaluated in the old state for a row the query then
     * never kept. With ΔL netted per content of the used columns, which include the key, its rows of
     * positive weight are rows of L¹, those of negative weight rows of L⁰, and the rows Lᶜ in both
     * states are L¹ without the keys ΔL names. Q is linear in L, so
     *
     * <pre>
     *   ΔQ = Q(ΔL⁺, U¹) + Q(ΔL⁻, U⁰) + Σⱼ [ Q(Lᶜ, U¹) − Q(Lᶜ, U⁰) ] restricted to Rⱼ ∧ ¬R₁ ∧ … ∧ ¬Rⱼ₋₁
     * </pre>
     *
     * where a row of Lᶜ that no Rⱼ holds for reads no changed row of any unit, so its two
     * evaluations cancel, and the others are counted once, in the term of the first Rⱼ they satisfy.
     * Every row is evaluated against the units' old state or their new one, and only a row of that
     * state. Each term's first condition is the guard: the weight's sign, or {@link #unchanged}.
     */
    private List<String> ownStates(Template list, Template where, SingleFrom keyed, List<Unit> units,
                                   RowSource.Changes changes, RowSource.Old old, RowSource now) {
        List<String> terms = new ArrayList<>();
        for (boolean inserted : new boolean[] {true, false}) {
            terms.add(term(list, where, item -> sql(item, item == keyed ? State.DELTA : State.NOW, changes, old, now),
                    Set.of(), s -> !inserted, old, null, "", null, !inserted,
                    Sql.quoteIdent(keyed.alias()) + ".__pgt_w " + (inserted ? "> 0" : "< 0")));
        }
        String guard = unchanged(keyed, changes);
        List<String> restrictions = units.stream().map(u -> "(" + restriction(u, changes) + ")").toList();
        for (int j = 0; j < units.size(); j++) {
            // NOT of each earlier one as a conjunct of its own: PostgreSQL makes it an anti join
            String restriction = Stream.concat(Stream.of(restrictions.get(j)),
                    restrictions.subList(0, j).stream().map(r -> "NOT " + r)).collect(Collectors.joining(" AND "));
            for (boolean before : new boolean[] {false, true}) {
                terms.add(term(list, where, item -> sql(item, State.NOW, changes, old, now), Set.of(), s -> before, old,
                        restriction, before ? "-" : "", null, before, guard));
            }
        }
        return terms;
    }

    /**
     * Lᶜ of {@link #ownStates} as a condition on the table's rows now: none of its changes has the
     * row's key. (A hashed subplan: the changes are read once.)
     */
    private static String unchanged(SingleFrom keyed, RowSource.Changes changes) {
        Scan scan = (Scan) keyed.item();
        List<String> key = scan.key().stream().map(Sql::quoteIdent).toList();
        String alias = Sql.quoteIdent(keyed.alias());
        return "(" + key.stream().map(k -> alias + "." + k).collect(Collectors.joining(", ")) + ") NOT IN (SELECT "
                + String.join(", ", key) + " FROM (" + scan.sql(changes) + ") __pgt_x)";
    }

    /**
     * The terms linear in each item: Q(L₍&lt;ᵢ₎⁰, ΔLᵢ, L₍&gt;ᵢ₎¹, U¹) for each i. A table's previous state
     * is a UNION ALL of the table and its negated changes, which PostgreSQL can neither probe by an
     * index nor estimate from the table's statistics: with the changes estimated at a row or so, it
     * joined the changes of one table to another's previous state by a nested loop that scanned that
     * state once per changed row (TPC-H Q10: 681 scans of {@code orders}, 8 s). A join is linear in
     * each item, so with T⁰ = T¹ − ΔT each term splits into terms over the tables themselves and
     * their changes, signed by the number of changes joined; every table is then read as it is, by
     * its indexes. The split doubles the terms per table before the changed one, so it is made only
     * while these terms stay within {@link #MAX_SPLIT_TERMS} (four tables give 15); other items (a
     * derived table, a view's subquery) keep their previous state.
     */
    private List<String> linearTerms(Template list, Template where, List<SingleFrom> linear, RowSource.Changes changes,
                                     RowSource.Old old, RowSource now) {
        // Only where $3 tells, when the statement is planned, which sources changed: without it,
        // every term would be planned and run.
        boolean split = changes.sourcesBound() && splitTermCount(linear) <= MAX_SPLIT_TERMS;
        List<String> terms = new ArrayList<>();
        for (int i = 0; i < linear.size(); i++) {
            List<Integer> splitItems = new ArrayList<>();
            for (int k = 0; split && k < i; k++) {
                if (linear.get(k).item() instanceof Scan) {
                    splitItems.add(k);
                }
            }
            // bit b of mask: the split item splitItems[b] is read as its changes, negated
            for (int mask = 0; mask < 1 << splitItems.size(); mask++) {
                State[] states = new State[linear.size()];
                for (int k = 0; k < states.length; k++) {
                    states[k] = k > i ? State.NOW : k == i ? State.DELTA : State.BEFORE_Z;
                }
                for (int b = 0; b < splitItems.size(); b++) {
                    states[splitItems.get(b)] = (mask & 1 << b) != 0 ? State.DELTA : State.NOW;
                }
                terms.add(linearTerm(list, where, linear, states, Integer.bitCount(mask), changes, old, now));
            }
        }
        return terms;
    }

    /** The number of terms {@link #linearTerms} gives when split, or a number above the limit. */
    private static long splitTermCount(List<SingleFrom> linear) {
        long count = 0;
        int tablesBefore = 0;
        for (SingleFrom item : linear) {
            count += 1L << tablesBefore;
            if (count > MAX_SPLIT_TERMS) {
                break;
            }
            tablesBefore += item.item() instanceof Scan ? 1 : 0;
        }
        return count;
    }

    /**
     * One term over the linear items read as {@code states} says (items not linear: now), negated
     * when it joins an odd number of changes besides the changed item's ({@code extraChanges}).
     */
    private String linearTerm(Template list, Template where, List<SingleFrom> linear, State[] states, int extraChanges,
                              RowSource.Changes changes, RowSource.Old old, RowSource now) {
        String term = term(list, where, item -> {
            int k = linear.indexOf(item);
            State st = k < 0 ? State.NOW : states[k];
            String sql = sql(item, st, changes, old, now);
            return extraChanges > 0 && st == State.DELTA ? estimatedAHundredTimes(sql) : sql;
        }, Set.of(), s -> false, old, null, extraChanges % 2 == 1 ? "-" : "");
        if (extraChanges == 0) {
            return term;
        }
        List<String> changedSources = new ArrayList<>();
        for (int k = 0; k < states.length; k++) {
            if (states[k] == State.DELTA && linear.get(k).item() instanceof Scan s) {
                changedSources.add(changes.mayHaveChanged(s.relid()));
            }
        }
        // Pruned unplanned (below the fence, a constant-false condition on the subquery makes it
        // empty before it is planned) unless all these sources changed: else planning the terms of
        // a 3-way join cost a refresh 1.1 ms more, for nothing.
        return "SELECT * FROM (" + term + " OFFSET 0) __pgt_t WHERE " + String.join(" AND ", changedSources);
    }

    /**
     * {@code rows}, which PostgreSQL then estimates at a hundred times its estimate: joined to one
     * row estimated at 100 ({@code pgtrickle._one_row_estimated_at_100}). Changes are estimated at a
     * row or so whatever their number, and two of them joined were a nested loop that read one of
     * them again for each row of the other: TPC-H Q21's changes of {@code orders} and
     * {@code lineitem}, 1.4 million pairs, each probing {@code supplier} (1.5 s). At a hundred rows
     * each a hash join costs less; a change joined to a table still probes its index. (A never-run
     * {@code UNION ALL} branch of 100 rows did the same, but planning it cost a refresh that pruned
     * every such term 2.5 ms.)
     */
    private static String estimatedAHundredTimes(String rows) {
        // Not fenced (OFFSET 0): flattened into the term, the changes keep their filters pushed
        // down; fenced, TPC-H Q10 took 149 ms instead of 30 (Q19 29 instead of 19)
        return "SELECT __pgt_r.* FROM (" + rows + ") __pgt_r CROSS JOIN pgtrickle._one_row_estimated_at_100() AS __pgt_e";
    }

    /** The items and subqueries of {@code units}, read in their previous state by a term. */
    private static void addUnits(List<Unit> units, Set<SingleFrom> items, Set<Sublink> sublinks) {
        for (Unit u : units) {
            items.addAll(u.items());
            if (u.sublink() != null) {
                sublinks.add(u.sublink());
            }
        }
    }

    private static String sql(SingleFrom item, State st, RowSource.Changes changes, RowSource.Old old, RowSource now) {
        ItemOperator op = item.item();
        return switch (st) {
            case NOW -> op.sql(now);
            case DELTA -> op.sql(changes);
            case BEFORE -> op.sql(old);
            case BEFORE_Z -> {
                // The weights' types differ (1 is an integer, a sum of changes a bigint), so PostgreSQL
                // does not flatten this UNION ALL and a join cannot probe the table's indexes through
                // it. Made alike (both bigint), the terms over a changed dimension of the bench's joins
                // probed the fact table's index, but TPC-H Q4, Q5 and Q9 went from 0.3-1 s to 2.5-30 s:
                // nested loops into old states, driven by changes estimated at a row. Kept as it is
                // until the estimates of the changes can be trusted; the linear terms of small
                // joins of tables do not read it (linearTerms).
                String cols = op.columns().stream().map(c -> "b." + Sql.quoteIdent(c) + ", ").collect(Collectors.joining());
                yield "SELECT * FROM (" + op.sql(now) + ") a UNION ALL SELECT " + cols + "-b.__pgt_w FROM (" + op.sql(changes) + ") b";
            }
        };
    }

    /** Splits the tree into linear items and units (maximal null-supplying subtrees, FULL joins). */
    private static void classify(FromNode node, List<SingleFrom> linear, List<Unit> units) {
        if (node instanceof SingleFrom s) {
            if (s.item() instanceof LateralSubquery l) {
                units.add(new Unit(s, null, l.sublink()));
            } else if (!(s.item() instanceof FunctionScan)) { // a function has no delta of its own
                linear.add(s);
            }
            return;
        }
        Join j = (Join) node;
        switch (j.kind()) {
            case INNER, CROSS -> {
                classify(j.left(), linear, units);
                classify(j.right(), linear, units);
            }
            case LEFT -> {
                classify(j.left(), linear, units);
                addUnit(units, new Unit(j.right(), j, j.right() instanceof SingleFrom s && s.item() instanceof LateralSubquery l
                        ? l.sublink() : null));
            }
            case RIGHT -> {
                addUnit(units, new Unit(j.left(), j, null));
                classify(j.right(), linear, units);
            }
            case FULL -> addUnit(units, new Unit(j, j, null));
        }
    }

    /**
     * A unit of functions only (the null-supplying side of {@code LEFT JOIN LATERAL f(...)}) never
     * changes by itself: its two halves would cancel, after reading the whole old state.
     */
    private static void addUnit(List<Unit> units, Unit unit) {
        if (!unit.items().stream().allMatch(i -> i.item() instanceof FunctionScan)) {
            units.add(unit);
        }
    }

    /**
     * The null-supplying item of a LEFT or RIGHT join when it is one table-like item with a usable
     * join condition (not a LATERAL subquery): such a unit has a cheaper exact delta
     * ({@link #outerJoinTerms}); null otherwise.
     */
    private static SingleFrom outerSide(Unit unit) {
        Join j = unit.join();
        SingleFrom side = j == null || unit.sublink() != null ? null : singleNullSupplier(j);
        return side != null && condition(j, side) != null ? side : null;
    }

    /** The null-supplying side of a LEFT or RIGHT join when it is one item that is not LATERAL; else null. */
    static SingleFrom singleNullSupplier(Join j) {
        FromNode side = switch (j.kind()) {
            case LEFT -> j.right();
            case RIGHT -> j.left();
            default -> null;
        };
        return side instanceof SingleFrom s && !lateral(s) ? s : null;
    }

    /**
     * The unit's part of the delta for {@code A LEFT JOIN B ON θ} (B one item; RIGHT mirrored),
     * exactly Q(…, B¹, …) − Q(…, B⁰, …), in two terms whose cost follows the change, not the fan-out
     * of the rows it touches:
     *
     * <pre>
     *   A ⟕ B¹ − A ⟕ B⁰ = A ⋈θ ΔB                                           (the matched rows)
     *                   + (A rows with no θ-partner in B¹ but one in B⁰) × NULLs
     *                   − (A rows with no θ-partner in B⁰ but one in B¹) × NULLs
     * </pre>
     *
     * The other items are read as in the generic unit terms (A's linear items before, earlier units
     * before, later units now), and a preserved path is linear in this subtree, so the identity
     * carries through the rest of the FROM clause, WHERE and select list. A row of A can change its
     * NULL-padded status only if some changed row of B satisfies θ with it; only those rows probe B's
     * two states, each probe a per-row subplan (an index probe where B has one) instead of a join or
     * a hash over B's whole previous state.
     */
    private List<String> outerJoinTerms(Template list, Template where, Unit unit, List<SingleFrom> linear,
                                        Set<SingleFrom> earlier, Set<Sublink> earlierSublinks, RowSource.Changes changes,
                                        RowSource.Old old, RowSource now) {
        SingleFrom side = outerSide(unit);
        String theta = condition(unit.join(), side);
        String alias = Sql.quoteIdent(side.alias());
        Function<State, Function<SingleFrom, String>> states = own -> item -> item == side
                ? own == null ? "SELECT * FROM (" + item.item().sql(now) + ") __pgt_none WHERE false" : sql(item, own, changes, old, now)
                : sql(item, linear.contains(item) ? State.BEFORE_Z : earlier.contains(item) ? State.BEFORE : State.NOW,
                        changes, old, now);
        String matched = term(list, where, states.apply(State.DELTA), earlier, earlierSublinks::contains, old, null, "",
                unit.join(), false, null);
        // OFFSET 0 keeps each probe a per-row subplan (PostgreSQL would otherwise hash B's whole state
        // once), and the CASE makes only the rows with a changed partner probe at all.
        String hasNow = "EXISTS (SELECT 1 FROM (" + side.item().sql(now) + ") AS " + alias + " WHERE " + theta + " OFFSET 0)";
        String hadBefore = "EXISTS (SELECT 1 FROM (" + side.item().sql(old) + ") AS " + alias + " WHERE " + theta + " OFFSET 0)";
        String restriction = "CASE WHEN " + partnerChanged(side, theta, changes) + " THEN (" + hasNow + ") <> (" + hadBefore
                + ") ELSE false END";
        String padded = term(list, where, states.apply(null), earlier, earlierSublinks::contains, old, restriction,
                "(CASE WHEN " + hasNow + " THEN -1 ELSE 1 END) * ", null, false, null);
        return List.of(matched, padded);
    }

    /**
     * Rⱼ: which rows of the FROM clause can change when the unit changes. Null-supplying single
     * item B of a join with condition θ: some changed row of B satisfies θ. FULL join of two items:
     * the row's own item changed, or a changed row of one side satisfies θ with the other. A
     * subquery over one table: some changed row satisfies its WHERE. Otherwise: the unit changed at
     * all (every row is re-evaluated, still exact).
     */
    private String restriction(Unit unit, RowSource.Changes changes) {
        if (unit.sublink() != null) {
            Sublink s = unit.sublink();
            if (s.restriction() != null && s.tables().size() == 1) {
                Sublink.Table t = s.tables().get(0);
                return "EXISTS (SELECT 1 FROM (" + t.scan().sql(changes) + ") AS " + Sql.quoteIdent(t.alias())
                        + " WHERE " + s.restriction() + ")";
            }
            return s.tables().stream().map(t -> "EXISTS (SELECT 1 FROM (" + t.scan().sql(changes) + ") __pgt_g)")
                    .collect(Collectors.joining(" OR ", "(", ")"));
        }
        Join j = unit.join();
        if (unit.node() instanceof SingleFrom side) {
            String theta = condition(j, side);
            if (theta != null) {
                return partnerChanged(side, theta, changes);
            }
        } else if (unit.node() == j && j.left() instanceof SingleFrom a && j.right() instanceof SingleFrom b) {
            String theta = condition(j, b);
            if (theta != null) {
                return "(" + ownRowChanged(a, changes) + " OR " + partnerChanged(a, theta, changes) + " OR "
                        + ownRowChanged(b, changes) + " OR " + partnerChanged(b, theta, changes) + ")";
            }
        }
        // a function has no changes of its own; its rows would make the condition true almost always
        return unit.items().stream().filter(i -> !(i.item() instanceof FunctionScan))
                .map(i -> "EXISTS (SELECT 1 FROM (" + i.item().sql(changes) + ") __pgt_g)")
                .collect(Collectors.joining(" OR ", "(", ")"));
    }

    private static String partnerChanged(SingleFrom side, String theta, RowSource.Changes changes) {
        return "EXISTS (SELECT 1 FROM (" + side.item().sql(changes) + ") AS " + Sql.quoteIdent(side.alias()) + " WHERE " + theta + ")";
    }

    private static String ownRowChanged(SingleFrom side, RowSource.Changes changes) {
        List<String> cols = side.item().columns();
        return RowSource.content(Sql.quoteIdent(side.alias()), cols) + " IN (SELECT " + RowSource.content("__pgt_d", cols)
                + " FROM (" + side.item().sql(changes) + ") __pgt_d)";
    }

    /**
     * The join condition of {@code j} as a predicate over {@code side} and the other side's items:
     * ON as written, USING as equalities between {@code side}'s column and the other side's merged
     * column; null when a USING column cannot be found.
     */
    private static String condition(Join j, SingleFrom side) {
        if (j.on() != null) {
            return j.on();
        }
        if (j.using().isEmpty()) {
            return "true";
        }
        FromNode other = j.left() == side ? j.right() : j.left();
        List<String> eq = new ArrayList<>();
        for (String col : j.using()) {
            String bare = unquote(col);
            String merged = merged(other, bare);
            if (merged == null) {
                return null;
            }
            eq.add(merged + " = " + Sql.quoteIdent(side.alias()) + "." + Sql.quoteIdent(bare));
        }
        return String.join(" AND ", eq);
    }

    /**
     * The expression a column name denotes in a FROM subtree, as PostgreSQL resolves USING columns:
     * the left input's for INNER and LEFT joins, the right input's for RIGHT, COALESCE of both for
     * FULL; otherwise the one item that has it.
     */
    private static String merged(FromNode node, String col) {
        if (node instanceof SingleFrom s) {
            return s.item().columns().contains(col) ? Sql.quoteIdent(s.alias()) + "." + Sql.quoteIdent(col) : null;
        }
        Join j = (Join) node;
        String left = merged(j.left(), col);
        String right = merged(j.right(), col);
        if (j.using().stream().map(FromClause::unquote).anyMatch(col::equals)) {
            return switch (j.kind()) {
                case RIGHT -> right;
                case FULL -> "COALESCE(" + left + ", " + right + ")";
                default -> left;
            };
        }
        return left != null ? left : right;
    }

    private static String unquote(String ident) {
        return ident.length() >= 2 && ident.startsWith("\"") ? ident.substring(1, ident.length() - 1).replace("\"\"", "\"") : ident;
    }

    /**
     * One SELECT over the FROM clause with each item read as {@code itemSql} says; the items in
     * {@code lookedUp} are read through a lateral lookup when they are the null-supplying side of a
     * LEFT join (their old state is a UNION that PostgreSQL cannot probe by a join condition, but it
     * can push the condition into a lateral subquery, down to each table's index).
     */
    private String term(Template list, Template where, Function<SingleFrom, String> itemSql, Set<SingleFrom> lookedUp,
                        Predicate<Sublink> oldSublinks,
                        RowSource.Old old, String restriction, String sign) {
        return term(list, where, itemSql, lookedUp, oldSublinks, old, restriction, sign, null, false, null);
    }

    /**
     * As above, with the outer join {@code asInner} (if not null) rendered as an inner join, and with
     * {@code probes} the probe subqueries of WHERE over the previous state computed per row in a
     * LATERAL subquery ({@link Template#probed}), and with the condition {@code guard} (if not null)
     * on the rows WHERE and the list may be evaluated for. PostgreSQL evaluates the conditions on one
     * item in the order of their cost, cheapest first, and a guard (a weight's sign, a hashed lookup)
     * costs less than a subquery per row, which runs only on the rows the guard lets through; a semi
     * join, and the select list, come after it too. (A CASE around WHERE would ensure the order, but
     * a subquery inside one is no longer made a semi join, nor its other conditions evaluated where
     * the item is scanned: TPC-H Q4 and Q22 took three times as long.)
     */
    private String term(Template list, Template where, Function<SingleFrom, String> itemSql, Set<SingleFrom> lookedUp,
                        Predicate<Sublink> oldSublinks,
                        RowSource.Old old, String restriction, String sign, Join asInner, boolean probes, String guard) {
        String weight = weight();
        String l = list == null ? "" : list.render(oldSublinks, old);
        List<String> conditions = new ArrayList<>();
        String probed = "";
        if (where != null && !where.isEmpty()) {
            Template.Probed p = probes ? where.probed(oldSublinks, old, "__pgt_p", weight) : null;
            if (p != null && !p.columns().isEmpty()) {
                probed = " CROSS JOIN LATERAL (SELECT " + String.join(", ", p.columns()) + " OFFSET 0) AS __pgt_p";
                conditions.add(p.text());
            } else {
                conditions.add(where.render(oldSublinks, old, weight));
            }
        }
        if (guard != null) {
            conditions.add(0, guard);
        }
        if (restriction != null) {
            conditions.add(restriction);
        }
        return "SELECT " + (l == null || l.isEmpty() ? "" : l + ", ") + sign + "(" + weight + ") AS __pgt_w FROM "
                + render(root, itemSql, lookedUp, asInner) + probed
                + (conditions.isEmpty() ? "" : " WHERE " + conditions.stream().map(c -> "(" + c + ")").collect(Collectors.joining(" AND ")));
    }

    /** A joined row's weight: the product of its items' weights, a NULL-padded item counting 1. */
    private String weight() {
        Set<SingleFrom> padded = new HashSet<>();
        List<SingleFrom> ignored = new ArrayList<>();
        List<Unit> units = new ArrayList<>();
        classify(root, ignored, units);
        units.forEach(u -> padded.addAll(u.items()));
        return root.items().stream()
                .map(i -> padded.contains(i) || i.item() instanceof FunctionScan // a function may be padded too
                        ? "coalesce(" + Sql.quoteIdent(i.alias()) + ".__pgt_w, 1)" : Sql.quoteIdent(i.alias()) + ".__pgt_w")
                .collect(Collectors.joining(" * "));
    }

    /**
     * The FROM clause over the sources' state at the previous refresh, each joined row repeated as
     * often as its weight says: what follows FROM in a query that groups or aggregates that state.
     */
    public String previous(RowSource.Old old) {
        String from = render(root, i -> i.item().sql(old), Set.of(), null);
        // Keyed tables have a row per row then too: a set-returning call per joined row is paid only
        // where an item can weigh more than one.
        return root.items().stream().allMatch(i -> i.item() instanceof Scan s && old.rowPerRow(s)) ? from
                : from + " CROSS JOIN LATERAL pgtrickle._ordinals(1, " + weight() + ") AS __pgt_m";
    }

    /** An item that may name the items before it: a function's arguments, a LATERAL subquery. */
    private static boolean lateral(SingleFrom s) {
        return s.item() instanceof FunctionScan || s.item() instanceof LateralSubquery;
    }

    private static String render(FromNode node, Function<SingleFrom, String> itemSql, Set<SingleFrom> lookedUp,
                                 Join asInner) {
        if (node instanceof SingleFrom s) {
            // a function's arguments may name the items before it
            return (lateral(s) ? "LATERAL (" : "(") + itemSql.apply(s) + ") AS " + Sql.quoteIdent(s.alias());
        }
        Join j = (Join) node;
        String left = render(j.left(), itemSql, lookedUp, asInner);
        if (j.kind() == Join.Kind.LEFT && j.right() instanceof SingleFrom b && lookedUp.contains(b) && !lateral(b)) {
            String theta = condition(j, b);
            if (theta != null) {
                String a = Sql.quoteIdent(b.alias());
                return "(" + left + " LEFT JOIN LATERAL (SELECT * FROM (" + itemSql.apply(b) + ") AS " + a + " WHERE " + theta
                        + " OFFSET 0) AS " + a + (j.using().isEmpty() ? " ON true" : " USING (" + String.join(", ", j.using()) + ")") + ")";
            }
        }
        String condition = j.on() != null ? " ON " + j.on()
                : !j.using().isEmpty() ? " USING (" + String.join(", ", j.using()) + ")"
                : j.kind() == Join.Kind.CROSS ? "" : " ON true";
        // by identity: a record's equality would also match an equal join elsewhere in the tree
        String kind = j == asInner ? Join.Kind.INNER.sql : j.kind().sql;
        return "(" + left + " " + kind + " " + render(j.right(), itemSql, lookedUp, asInner) + condition + ")";
    }
}
