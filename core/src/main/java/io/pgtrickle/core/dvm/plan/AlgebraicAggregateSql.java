package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.AffectedGroups;
import io.pgtrickle.core.dvm.op.Aggregate;
import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.RowSource;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import io.pgtrickle.core.dvm.op.Template;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.QueryText;
import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * Aggregates maintained in O(change) from hidden auxiliary columns of the stored group row:
 *
 * <pre>
 *   count' = count + Σw            sum' = sum + Σ x·w   (NULL when no non-NULL value is left)
 *   avg'   = (s + Σ x·w) / (n + Σ[x≠NULL]·w)
 *   min'   = least(min, min of inserted x)   unless a removed x ≤ min: then only that group is rescanned
 * </pre>
 *
 * A sum of {@code numeric} values without a declared scale has the largest scale of the values summed
 * (0.5 + 0.25 = 0.75, but 0.50 once the 0.25 is gone, where the query says 0.5): such sums also keep
 * how many of the group's values have each scale, as one exact integer {@code __pgt_a<i>_sc} =
 * Σ 10^(12·scale(x)) (the count of scale s is its s-th base-10¹² digit; a group holds fewer than
 * 10¹² values), which is linear like the sum; the largest scale present is read off its length, and
 * the visible value is the running sum rounded to it — exact, and O(change) like the sum.
 *
 * <p>A numeric sum counts its group's NaNs and infinities apart from the sum of its finite values,
 * as PostgreSQL's own sum(numeric) does: {@code __pgt_a<i>_sp} = Σ 1 per NaN, 10¹² per +∞ and 10²⁴
 * per −∞, linear like the sum. The running sum itself could not forget one (NaN − NaN and ∞ − ∞ are
 * NaN); from the counts the visible value is NaN, ±∞ or the finite sum, exactly as the query has it.
 *
 * <p>Group rows are identified as in FULL (hash of the key), so the stored row is found by index.
 * Used when every aggregate call is COUNT, SUM/AVG over exact numbers, MIN or MAX, and there is no
 * HAVING (a group below a HAVING threshold has no stored row to keep its state in).
 */
final class AlgebraicAggregateSql {
    /** The storage type of an auxiliary column and the expression computing it in FULL. */
    record Aux(String name, String type, String fullExpression) {
    }

    private final Aggregate a;
    private final List<AggregateCall> calls;
    private final List<String> argTypes;
    private final List<RowHash.Form> keyForms;
    private final boolean unnetted;
    private final boolean valueEqual;

    /**
     * {@code valueEqual}: every key and argument prints equal values alike ({@link
     * io.pgtrickle.core.sql.TextForms}, in a deterministic collation), so that MIN/MAX changes are
     * netted by grouping their values rather than comparing their text.
     */
    AlgebraicAggregateSql(Aggregate a, List<AggregateCall> calls, List<String> argTypes, List<RowHash.Form> keyForms,
                          boolean valueEqual) {
        this.a = a;
        this.calls = calls;
        this.argTypes = argTypes;
        this.keyForms = keyForms;
        this.unnetted = sumsUnnetted(a, calls, argTypes);
        this.valueEqual = valueEqual;
    }

    /** Hidden columns: the group's row count, then each call's state. */
    List<Aux> auxiliaries() {
        List<Aux> out = new ArrayList<>();
        out.add(new Aux("__pgt_count", "bigint", "count(*)"));
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            String x = c.argument();
            switch (c.kind()) {
                case COUNT_STAR -> out.add(new Aux("__pgt_a" + i, "bigint", "count(*)"));
                case COUNT -> out.add(new Aux("__pgt_a" + i, "bigint", "count(" + x + ")"));
                // The running sum is 0, not NULL, over no rows: the same state however it was reached.
                case SUM, AVG -> {
                    out.add(new Aux("__pgt_a" + i, "numeric", "coalesce(sum(" + (specials(i) ? FINITE.formatted(x) : x) + "), 0)"));
                    out.add(new Aux("__pgt_a" + i + "_n", "bigint", "count(" + x + ")"));
                    if (scales(i)) {
                        out.add(new Aux("__pgt_a" + i + "_sc", "numeric", "coalesce(sum(" + SCALE_DIGIT.formatted(x) + "), 0)"));
                    }
                    if (specials(i)) {
                        out.add(new Aux("__pgt_a" + i + "_sp", "numeric", "coalesce(sum(" + SPECIAL_DIGIT.formatted(x) + "), 0)"));
                    }
                }
                case MIN, MAX -> out.add(new Aux("__pgt_a" + i, argTypes.get(i), c.kind().name().toLowerCase() + "(" + x + ")"));
                case OTHER -> throw new IllegalStateException("not algebraic: " + c.text());
            }
        }
        return out;
    }

    /**
     * Scales above this count as this one (10^(12·16383) would overflow numeric); a sum holding such
     * a value is shown unrounded, at the largest scale it ever had: the same value.
     */
    private static final int MAX_SCALE = 1000;

    /**
     * One value's contribution to the scale counts: 10^(12·scale), an integer; 0 for NULL (least()
     * ignores a NULL argument, so the NULL scale is kept NULL through it: a NULL counted as the
     * largest scale kept every sum of a group with a NULL unrounded, 0.0 where PostgreSQL says 0).
     */
    private static final String SCALE_DIGIT = "coalesce(trunc(10::numeric ^ (12 * nullif(least(coalesce(scale(%s), -1), "
            + MAX_SCALE + "), -1))), 0)";

    /** Whether the sum of call {@code i} tracks the scales of its values: numeric with no declared scale. */
    private boolean scales(int i) {
        return argTypes.get(i).equals("numeric");
    }

    /** Whether call {@code i} is SUM of smallint or integer values: PostgreSQL's sum is then a bigint. */
    private boolean sumOfIntegers(int i) {
        String t = argTypes.get(i);
        return calls.get(i).kind() == AggregateCall.Kind.SUM && (t.equals("smallint") || t.equals("integer"));
    }

    /** Whether the sum of call {@code i} counts NaNs and infinities apart. */
    private boolean specials(int i) {
        return numeric(argTypes.get(i));
    }

    /** numeric, with a declared precision and scale or not. */
    private static boolean numeric(String type) {
        return type.equals("numeric") || type.startsWith("numeric(");
    }

    /** A numeric value, or 0 for NaN and the infinities: what the running sum adds up. */
    private static final String FINITE = "CASE WHEN (%1$s) IN ('NaN', 'Infinity', '-Infinity') THEN 0 ELSE (%1$s) END";

    /** One value's contribution to the counts of NaNs (10⁰), +∞ (10¹²) and −∞ (10²⁴); 0 for the rest and NULL. */
    private static final String SPECIAL_DIGIT = "CASE WHEN (%1$s) = 'NaN' THEN 1::numeric WHEN (%1$s) = 'Infinity' THEN 1e12"
            + " WHEN (%1$s) = '-Infinity' THEN 1e24 ELSE 0 END";

    /**
     * The sum a group shows, given its counts of special values {@code sp} and the sum of its finite
     * values: NaN when it holds a NaN or both infinities, else the infinity it holds, else the sum.
     */
    private static String withSpecials(String sp, String finite) {
        String pinf = "mod(div(" + sp + ", 1e12), 1e12) > 0";
        String ninf = sp + " >= 1e24";
        return "CASE WHEN mod(" + sp + ", 1e12) > 0 OR (" + pinf + " AND " + ninf + ") THEN 'NaN'::numeric WHEN " + pinf
                + " THEN 'Infinity'::numeric WHEN " + ninf + " THEN '-Infinity'::numeric ELSE " + finite + " END";
    }

    /**
     * Whether the changed rows can be summed as captured, without netting them first
     * ({@link RowSource.Changes#unnetted}): netting sorts or hashes every changed row, a fifth of the
     * statement for 1,500 changes in 1,000 groups. Exact when every call is linear in the weights
     * (COUNT, SUM, AVG over exact numbers; not MIN/MAX, which read which values came and went) and
     * nothing evaluated per row can raise on a row that was inserted and deleted again (it is summed
     * in and out): one table, no WHERE, and keys and arguments that are columns. Sums of integers
     * and numerics (a numeric NaN or infinity summed in and out again leaves its count as it was).
     */
    private static boolean sumsUnnetted(Aggregate a, List<AggregateCall> calls, List<String> argTypes) {
        if (a.where() != null || !(a.from().root() instanceof SingleFrom s) || !(s.item() instanceof Scan)
                || !a.keys().stream().allMatch(AlgebraicAggregateSql::column)) {
            return false;
        }
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            boolean sum = c.kind() == AggregateCall.Kind.SUM || c.kind() == AggregateCall.Kind.AVG;
            if (c.kind() == AggregateCall.Kind.MIN || c.kind() == AggregateCall.Kind.MAX
                    || c.argument() != null && !column(c.argument())
                    || sum && !INTEGERS.contains(argTypes.get(i)) && !numeric(argTypes.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** {@link #sumsUnnetted(Aggregate, List, List)} of this aggregate. */
    boolean sumsUnnetted() {
        return unnetted;
    }

    private static final java.util.Set<String> INTEGERS = java.util.Set.of("smallint", "integer", "bigint");

    private static boolean column(String expression) {
        return Sql.COLUMN_REFERENCE.matcher(expression).matches();
    }

    /**
     * The type a SUM's or AVG's value times its weight is computed in: bigint for smallint and
     * integer summed unnetted (the weight is then ±1, and sum(bigint) accumulates in 128-bit
     * integers, where numeric arithmetic costs a tenth of the statement); numeric otherwise: a
     * netted weight is a product of duplicate counts through joins, beyond bigint with a cross
     * join of two keyless tables of 70,000 duplicates each.
     */
    private String productType(int i) {
        String t = argTypes.get(i);
        return (t.equals("smallint") || t.equals("integer")) && unnetted ? "bigint" : "numeric";
    }

    /**
     * The pieces of the differential SQL, as {@link #changes} joins them: {@code delta} the change
     * per group (keys {@code __pgt_g<j>}, {@code __pgt_dn}, {@code __pgt_d<i>} ...); {@code rid} the
     * group's row id over the delta {@code d}; {@code merged} the select list adding the change to the
     * stored state of the group (the stored row aliased {@code s}); {@code rescan} the recomputation
     * of groups whose MIN/MAX was removed, or null; {@code fin} the select list of the values per
     * group (over {@code m}); {@code values} and {@code names} the storage columns, each one's value
     * over the final values aliased {@code __pgt_f} and its name.
     */
    private record Parts(String delta, String rid, List<String> merged, String rescan, List<String> fin,
                         List<String> values, List<String> names) {
        /** The storage columns' values named {@code prefix + i}, or by their column names when {@code prefix} is null. */
        List<String> row(String prefix) {
            List<String> out = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                out.add(values.get(i) + " AS " + (prefix == null ? names.get(i) : prefix + i));
            }
            return out;
        }
    }

    private static final String FINAL = "__pgt_f";

    /** The differential changes ({@link #changes}) and, where there is one, the direct apply statement ({@link #directApply}). */
    record Statements(String changes, String directApply) {
    }

    /** Both statements, rendered from one set of {@link Parts} over {@code window}. */
    Statements statements(QualifiedName storage, List<StorageColumn> visible, RowSource.Changes window) {
        Parts p = parts(visible, window);
        return new Statements(changes(storage, p, window), directApply(storage, visible, p, window));
    }

    private String changes(QualifiedName storage, Parts p, RowSource.Changes window) {
        List<String> g = a.groupNames();
        String merged = "SELECT " + String.join(", ", p.merged()) + " FROM __pgt_d d LEFT JOIN " + storage.quoted()
                + " s ON s.__pgt_row_id = " + p.rid();
        String finSql = "SELECT " + String.join(", ", p.fin()) + " FROM __pgt_m m"
                + (p.rescan() == null ? "" : " LEFT JOIN __pgt_r r ON " + (a.scalar() ? "true"
                        : RowHash.sameKeys(g.stream().map(k -> "r." + k).toList(), g.stream().map(k -> "m." + k).toList(), keyForms)));
        String present = a.scalar() ? "true" : FINAL + ".__pgt_n > 0";
        return window.with("WITH __pgt_d AS (" + p.delta() + "), __pgt_m AS (" + merged + ")"
                + (p.rescan() == null ? "" : ", __pgt_r AS (" + p.rescan() + ")")
                + ", __pgt_f AS (" + finSql + ")"
                + " SELECT " + FINAL + ".__pgt_rid AS __pgt_row_id, CASE WHEN " + present + " THEN 'I' ELSE 'D' END AS __pgt_action, "
                + String.join(", ", p.row(null)) + " FROM __pgt_f AS " + FINAL);
    }

    /**
     * The differential apply statement of a GROUP BY whose calls are COUNT, SUM and AVG, for
     * PostgreSQL 18 and later (MERGE ... RETURNING OLD); null for other aggregates. The MERGE joins
     * the change per group with the stored group row once and computes the new values from both in
     * its UPDATE: the general form ({@link #changes} applied by {@link ApplySql}) reads each changed
     * group's stored row twice, once to add the change to it and once to write it, a quarter of the
     * statement for 1,000 changed groups. New groups are inserted with the values computed from the
     * change alone; a group whose changes cancel out entirely is not written; one whose count drops
     * to 0 is deleted.
     */
    private String directApply(QualifiedName storage, List<StorageColumn> visible, Parts p, RowSource.Changes window) {
        if (a.scalar() || calls.stream().anyMatch(c -> c.kind() == AggregateCall.Kind.MIN || c.kind() == AggregateCall.Kind.MAX)) {
            return null;
        }
        List<String> g = a.groupNames();
        String rid = RowHash.of(g.stream().map(k -> "x." + k).toList(), keyForms);
        // The change of each hidden column: __pgt_count's is __pgt_dn, __pgt_a<i><suffix>'s __pgt_d<i><suffix>.
        List<String> deltas = auxiliaries().stream()
                .map(x -> x.name().equals("__pgt_count") ? "d.__pgt_dn" : "d.__pgt_d" + x.name().substring("__pgt_a".length()))
                .toList();
        // A new group's state is its change alone: the stored columns read as NULL (coalesced to 0).
        String nothingStored = auxiliaries().stream().map(x -> "NULL::" + x.type() + " AS " + x.name()).collect(Collectors.joining(", "));
        String names = String.join(", ", p.names());
        String newGroup = values(p, p.row("__pgt_new"), " FROM (SELECT " + nothingStored + ") s");
        return "WITH d AS MATERIALIZED (SELECT x.*, " + rid + " AS __pgt_rid FROM (" + window.with(p.delta()) + ") x),"
                + " m AS (MERGE INTO " + storage.quoted() + " s USING (SELECT d.*, n.* FROM d CROSS JOIN LATERAL (" + newGroup
                + ") n) d ON s.__pgt_row_id = d.__pgt_rid"
                + " WHEN MATCHED AND s.__pgt_count + d.__pgt_dn <= 0 THEN DELETE"
                + " WHEN MATCHED AND (" + deltas.stream().map(x -> "coalesce(" + x + ", 0) <> 0").collect(Collectors.joining(" OR "))
                + ") THEN UPDATE SET " + assignments(p)
                + " WHEN NOT MATCHED AND d.__pgt_dn > 0 THEN INSERT (" + names + ", __pgt_row_id) VALUES ("
                + IntStream.range(0, p.names().size()).mapToObj(i -> "d.__pgt_new" + i).collect(Collectors.joining(", "))
                + ", d.__pgt_rid)" + ApplySql.countedReturning(visible);
    }

    /**
     * The UPDATE's {@code column = value} list, each value an expression over the change {@code d}
     * and the stored row {@code s} alone: {@link Parts#values} with the final ({@code __pgt_f.}) and
     * merged ({@code m.}) columns they read replaced by their definitions. A row subquery over the
     * nested selects ({@link #values}) is run once per updated group, a sixth of the statement for
     * 1,000 groups; the aliases replaced are the engine's own ({@code __pgt_} names).
     */
    private static String assignments(Parts p) {
        Map<String, String> merged = definitions(p.merged());
        Map<String, String> fin = new HashMap<>();
        definitions(p.fin()).forEach((name, expression) -> fin.put(name, inline(expression, MERGED_REF, merged)));
        List<String> out = new ArrayList<>();
        for (int i = 0; i < p.names().size(); i++) {
            out.add(p.names().get(i) + " = " + inline(p.values().get(i), FINAL_REF, fin));
        }
        return String.join(", ", out);
    }

    private static final Pattern MERGED_REF = Pattern.compile("(?<![\\w.\"])m\\.(__pgt_\\w+)");
    private static final Pattern FINAL_REF = Pattern.compile("(?<![\\w.\"])(?:\"" + FINAL + "\"|" + FINAL + ")\\.(__pgt_\\w+)");

    /** {@code expression AS name} items (or a bare {@code alias.name}) by name. */
    private static Map<String, String> definitions(List<String> items) {
        Map<String, String> out = new HashMap<>();
        for (String item : items) {
            int as = item.lastIndexOf(" AS ");
            out.put(as >= 0 ? item.substring(as + 4).strip() : item.substring(item.lastIndexOf('.') + 1),
                    as >= 0 ? item.substring(0, as) : item);
        }
        return out;
    }

    /** Outside literals: an output expression keeps its string constants as the user wrote them. */
    private static String inline(String expression, Pattern reference, Map<String, String> definitions) {
        return QueryText.replaceOutsideLiterals(expression, reference, r -> {
            String definition = definitions.get(r.group(1));
            if (definition == null) {
                throw new IllegalStateException("no definition of " + r.group() + " in " + expression);
            }
            return "(" + definition + ")";
        });
    }

    /** The select of a group's storage columns {@code row} from the change {@code d} and the stored row {@code s} ({@code from}). */
    private static String values(Parts p, List<String> row, String from) {
        return "SELECT " + String.join(", ", row) + " FROM (SELECT " + String.join(", ", p.fin()) + " FROM (SELECT "
                + String.join(", ", p.merged()) + from + ") m) AS " + FINAL;
    }

    private Parts parts(List<StorageColumn> visible, RowSource.Changes window) {
        String alias = FINAL;
        List<String> g = a.groupNames();
        // (1) the change per group, from the changed input rows: keys, arguments and weights
        List<String> inner = new ArrayList<>();
        if (!a.scalar()) {
            inner.add(a.keysAliased());
        }
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).argument() != null) {
                inner.add("(" + calls.get(i).argument() + ") AS __pgt_x" + i);
            }
        }
        boolean extremes = calls.stream().anyMatch(c -> c.kind() == AggregateCall.Kind.MIN || c.kind() == AggregateCall.Kind.MAX);
        String rows = a.from().select(Template.plain(String.join(", ", inner)), a.where(), unnetted ? window.unnetted() : window);
        String w = "q.__pgt_w";
        if (extremes) {
            // MIN/MAX read which values were inserted and which removed, so terms that cancel (a row
            // of the old state with weight +1 and -1, joined to the same partner) must cancel first.
            List<String> cols = new ArrayList<>(g);
            for (int i = 0; i < calls.size(); i++) {
                if (calls.get(i).argument() != null) {
                    cols.add("__pgt_x" + i);
                }
            }
            String listed = cols.stream().map(c -> "r." + c).collect(Collectors.joining(", "));
            if (valueEqual) {
                // Equal values print alike: grouping them nets what comparing their text would, by a
                // hash of the values instead of a sort of their text under a collation (1,500 changes
                // in 1,000 groups: 2.5 of 20 ms).
                rows = "SELECT " + listed + ", sum(r.__pgt_w) AS __pgt_net FROM (" + rows + ") r GROUP BY " + listed
                        + " HAVING sum(r.__pgt_w) <> 0";
            } else {
                String content = "(ROW(" + listed + "))::text";
                rows = "SELECT * FROM (SELECT DISTINCT ON (" + content + ") r.*, sum(r.__pgt_w) OVER (PARTITION BY " + content
                        + ") AS __pgt_net FROM (" + rows + ") r) c WHERE c.__pgt_net <> 0";
            }
            w = "q.__pgt_net";
        }
        List<String> d = new ArrayList<>();
        d.add("sum(" + w + ") AS __pgt_dn");
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            String x = "q.__pgt_x" + i;
            switch (c.kind()) {
                case COUNT_STAR -> d.add("sum(" + w + ") AS __pgt_d" + i);
                case COUNT -> d.add("sum(CASE WHEN " + x + " IS NOT NULL THEN " + w + " ELSE 0 END) AS __pgt_d" + i);
                case SUM, AVG -> {
                    d.add("sum((" + (specials(i) ? FINITE.formatted(x) : x) + ")::" + productType(i) + " * " + w + ") AS __pgt_d" + i);
                    d.add("sum(CASE WHEN " + x + " IS NOT NULL THEN " + w + " ELSE 0 END) AS __pgt_d" + i + "_n");
                    if (scales(i)) {
                        d.add("sum(" + SCALE_DIGIT.formatted(x) + " * " + w + ") AS __pgt_d" + i + "_sc");
                    }
                    if (specials(i)) {
                        d.add("sum(" + SPECIAL_DIGIT.formatted(x) + " * " + w + ") AS __pgt_d" + i + "_sp");
                    }
                }
                case MIN, MAX -> {
                    String fn = c.kind().name().toLowerCase();
                    d.add(fn + "(" + x + ") FILTER (WHERE " + w + " > 0) AS __pgt_i" + i);
                    d.add(fn + "(" + x + ") FILTER (WHERE " + w + " < 0) AS __pgt_r" + i);
                }
                case OTHER -> throw new IllegalStateException();
            }
        }
        String keysSelect = a.scalar() ? "" : RowHash.aliased(a.keys(), g) + ", ";
        String delta = "SELECT " + (a.scalar() ? "" : g.stream().map(k -> "q." + k + ", ").collect(Collectors.joining()))
                + String.join(", ", d) + " FROM (" + rows + ") q"
                + (a.scalar() ? "" : " GROUP BY " + g.stream().map(k -> "q." + k).collect(Collectors.joining(", ")));
        // (2) merged with the stored state of each group
        String rid = RowHash.of(g.stream().map(k -> "d." + k).toList(), keyForms);
        List<String> m = new ArrayList<>();
        m.add(rid + " AS __pgt_rid");
        m.add("coalesce(s.__pgt_count, 0) + coalesce(d.__pgt_dn, 0) AS __pgt_n");
        List<String> rescanIf = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            String old = "s.__pgt_a" + i;
            switch (c.kind()) {
                case COUNT_STAR, COUNT -> m.add("coalesce(" + old + ", 0) + coalesce(d.__pgt_d" + i + ", 0) AS __pgt_v" + i);
                case SUM, AVG -> {
                    m.add("coalesce(" + old + "_n, 0) + coalesce(d.__pgt_d" + i + "_n, 0) AS __pgt_v" + i + "_n");
                    m.add("coalesce(" + old + ", 0) + coalesce(d.__pgt_d" + i + ", 0) AS __pgt_v" + i);
                    if (scales(i)) {
                        m.add("coalesce(" + old + "_sc, 0) + coalesce(d.__pgt_d" + i + "_sc, 0) AS __pgt_v" + i + "_sc");
                    }
                    if (specials(i)) {
                        m.add("coalesce(" + old + "_sp, 0) + coalesce(d.__pgt_d" + i + "_sp, 0) AS __pgt_v" + i + "_sp");
                    }
                }
                case MIN, MAX -> {
                    String cmp = c.kind() == AggregateCall.Kind.MIN ? "<=" : ">=";
                    String extreme = c.kind() == AggregateCall.Kind.MIN ? "LEAST" : "GREATEST";
                    m.add(extreme + "(" + old + ", d.__pgt_i" + i + ") AS __pgt_v" + i);
                    rescanIf.add("(d.__pgt_r" + i + " IS NOT NULL AND " + old + " IS NOT NULL AND d.__pgt_r" + i + " " + cmp + " " + old + ")");
                }
                case OTHER -> throw new IllegalStateException();
            }
        }
        m.add((rescanIf.isEmpty() ? "false" : String.join(" OR ", rescanIf)) + " AS __pgt_rescan");
        List<String> merged = new ArrayList<>();
        if (!a.scalar()) {
            g.forEach(k -> merged.add("d." + k));
        }
        merged.addAll(m);
        // (3) MIN/MAX whose stored extreme was removed: recompute those groups only
        List<String> rescanCalls = new ArrayList<>();
        for (int i = 0; i < calls.size(); i++) {
            if (calls.get(i).kind() == AggregateCall.Kind.MIN || calls.get(i).kind() == AggregateCall.Kind.MAX) {
                rescanCalls.add(calls.get(i).text() + " AS __pgt_v" + i);
            }
        }
        String where = a.whereSql() == null ? "" : "(" + a.whereSql() + ") AND ";
        String rescan = rescanCalls.isEmpty() ? null
                : a.scalar()
                ? "SELECT " + String.join(", ", rescanCalls) + " FROM " + a.fromSql() + " WHERE " + where
                        + "EXISTS (SELECT 1 FROM __pgt_m m WHERE m.__pgt_rescan)"
                : AffectedGroups.select(keysSelect + String.join(", ", rescanCalls), a.fromSql(), a.whereSql(), a.keys(), g,
                        "__pgt_m", "__pgt_a.__pgt_rescan", null);
        // (4) final values per group, named as the outputs expect them: alias.__pgt_g<j>, alias.__pgt_a<i>
        List<String> fin = new ArrayList<>();
        g.forEach(k -> fin.add("m." + k));
        fin.add("m.__pgt_rid");
        fin.add("m.__pgt_n");
        List<String[]> auxOut = new ArrayList<>(); // {column of __pgt_f, storage column}
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall c = calls.get(i);
            String v = "m.__pgt_v" + i;
            switch (c.kind()) {
                case COUNT_STAR, COUNT -> {
                    // bigint, as the query's count: added up from weights, it is numeric after a join
                    fin.add(v + "::bigint AS __pgt_a" + i);
                    auxOut.add(new String[] {"__pgt_a" + i, "__pgt_a" + i});
                }
                case SUM, AVG -> {
                    // the sum at the largest scale among the group's values, as PostgreSQL's sum has it (0 for none)
                    String sum = scales(i) ? "CASE WHEN length(" + v + "_sc::text) > 12 * " + MAX_SCALE + " THEN " + v + " ELSE round("
                            + v + ", CASE WHEN " + v + "_sc > 0 THEN (length(" + v + "_sc::text) - 1) / 12 ELSE 0 END) END" : v;
                    String shown = sum + (c.kind() == AggregateCall.Kind.AVG ? " / " + v + "_n" : "");
                    // In the type the query's sum has: an expression over it (sum(x) / count(*)) must
                    // divide integers, not the numeric running sum.
                    String value = "CASE WHEN " + v + "_n > 0 THEN " + (specials(i) ? withSpecials(v + "_sp", shown) : shown) + " END";
                    fin.add((sumOfIntegers(i) ? "(" + value + ")::bigint" : value) + " AS __pgt_a" + i);
                    fin.add(sum + " AS __pgt_s" + i);
                    fin.add(v + "_n AS __pgt_n" + i);
                    auxOut.add(new String[] {"__pgt_s" + i, "__pgt_a" + i});
                    auxOut.add(new String[] {"__pgt_n" + i, "__pgt_a" + i + "_n"});
                    if (scales(i)) {
                        fin.add(v + "_sc AS __pgt_sc" + i);
                        auxOut.add(new String[] {"__pgt_sc" + i, "__pgt_a" + i + "_sc"});
                    }
                    if (specials(i)) {
                        fin.add(v + "_sp AS __pgt_sp" + i);
                        auxOut.add(new String[] {"__pgt_sp" + i, "__pgt_a" + i + "_sp"});
                    }
                }
                case MIN, MAX -> {
                    fin.add("CASE WHEN m.__pgt_rescan THEN r.__pgt_v" + i + " ELSE " + v + " END AS __pgt_a" + i);
                    auxOut.add(new String[] {"__pgt_a" + i, "__pgt_a" + i});
                }
                case OTHER -> throw new IllegalStateException();
            }
        }
        List<String> values = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < a.outputs().size(); i++) {
            Project.Item item = a.outputs().get(i);
            String value = "(" + item.expression() + ")::" + visible.get(i).type();
            // Not evaluated for a group that is gone: 100 / count(*) over no rows would divide by zero.
            values.add(a.scalar() ? value : "CASE WHEN " + alias + ".__pgt_n > 0 THEN " + value + " END");
            names.add(Sql.quoteIdent(item.name()));
        }
        values.add(alias + ".__pgt_n");
        names.add("__pgt_count");
        for (String[] x : auxOut) {
            values.add(alias + "." + x[0]);
            names.add(x[1]);
        }
        return new Parts(delta, rid, merged, rescan, fin, values, names);
    }

}
