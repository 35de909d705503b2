package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Inner join of n items {@code J = A₁ ⋈ … ⋈ Aₙ} (JOIN … ON, CROSS JOIN, comma joins):
 *
 * <pre>
 *   ΔJ = Σᵢ  A₁⁰ ⋈ … ⋈ Aᵢ₋₁⁰ ⋈ ΔAᵢ ⋈ Aᵢ₊₁¹ ⋈ … ⋈ Aₙ¹
 * </pre>
 *
 * with Aⱼ¹ the current state and Aⱼ⁰ = Aⱼ¹ − ΔAⱼ the state before the window (a Z-set: the current
 * rows with weight +1 and the changed rows with their weight negated). The weight of a joined row
 * is the product of its parts' weights. Exact for any mix of changes on every side, keyed or not,
 * with no clean-up pass: consolidation at the apply adds up the weights.
 */
public record InnerJoin(List<SingleFrom> items, List<String> conditions) implements FromClause, Operator {
    public InnerJoin {
        items = List.copyOf(items);
        conditions = List.copyOf(conditions);
    }

    @Override
    public String select(String list, String where, RowSource rows) {
        if (!(rows instanceof RowSource.Changes)) {
            return term(list, where, i -> items.get(i).item().sql(rows));
        }
        RowSource current = new RowSource.Current();
        List<String> terms = new ArrayList<>();
        for (int d = 0; d < items.size(); d++) {
            int changed = d;
            terms.add(term(list, where, i -> {
                LinearOperator op = items.get(i).item();
                if (i == changed) {
                    return op.sql(rows);
                }
                if (i > changed) {
                    return op.sql(current);
                }
                String cols = op.columns().stream().map(c -> "b." + Sql.quoteIdent(c) + ", ").collect(Collectors.joining());
                return "SELECT * FROM (" + op.sql(current) + ") a UNION ALL SELECT " + cols + "-b.__pgt_w FROM ("
                        + op.sql(rows) + ") b";
            }));
        }
        return terms.stream().map(t -> "(" + t + ")").collect(Collectors.joining(" UNION ALL "));
    }

    private String term(String list, String where, java.util.function.IntFunction<String> source) {
        List<String> from = new ArrayList<>();
        List<String> weights = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String a = Sql.quoteIdent(items.get(i).alias());
            from.add("(" + source.apply(i) + ") AS " + a);
            weights.add(a + ".__pgt_w");
        }
        List<String> predicates = new ArrayList<>(conditions);
        if (where != null) {
            predicates.add(where);
        }
        return "SELECT " + list + (list.isEmpty() ? "" : ", ") + String.join(" * ", weights) + " AS __pgt_w FROM "
                + String.join(" CROSS JOIN ", from)
                + (predicates.isEmpty() ? "" : " WHERE " + predicates.stream().map(p -> "(" + p + ")").collect(Collectors.joining(" AND ")));
    }

    @Override
    public Operator operator() {
        return this;
    }

    @Override
    public List<String> columns() {
        return items.stream().flatMap(i -> i.item().columns().stream().map(c -> i.alias() + "." + c)).toList();
    }

    @Override
    public List<Operator> inputs() {
        return items.stream().map(i -> (Operator) i.item()).toList();
    }

    @Override
    public String describe() {
        return "InnerJoin " + items.stream().map(SingleFrom::alias).collect(Collectors.joining(" ⋈ "))
                + (conditions.isEmpty() ? " (cross)" : " ON " + conditions.stream().map(c -> c.replaceAll("\\s+", " "))
                        .collect(Collectors.joining(" AND ")));
    }

    @Override
    public String strategy() {
        return "incremental: ΔA⋈B¹ + A⁰⋈ΔB (bilinear, exact)";
    }
}
