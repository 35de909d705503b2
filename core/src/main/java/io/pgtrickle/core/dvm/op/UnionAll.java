package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code Δ(Q₁ ⊎ … ⊎ Qₙ) = ΔQ₁ ⊎ … ⊎ ΔQₙ}, whatever the branches are (a grouped branch brings its
 * own delta); output names are the first branch's, as in SQL.
 */
public record UnionAll(List<ItemOperator> branches) implements LinearOperator {
    public UnionAll {
        branches = List.copyOf(branches);
    }

    @Override
    public String sql(RowSource rows) {
        return branches.stream().map(b -> "(" + b.sql(rows) + ")").collect(Collectors.joining(" UNION ALL "));
    }

    @Override
    public List<String> columns() {
        return branches.get(0).columns();
    }

    @Override
    public List<Operator> inputs() {
        return List.copyOf(branches);
    }

    @Override
    public String describe() {
        return "UnionAll (" + branches.size() + " branches)";
    }
}
