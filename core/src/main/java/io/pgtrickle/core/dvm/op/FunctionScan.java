package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * A set-returning function in FROM ({@code LATERAL unnest(t.arr) WITH ORDINALITY u(x, n)},
 * {@code jsonb_each(t.j) e(key, value)}, {@code generate_series(1, 3) g(g)}). It reads no table: its
 * rows are a function of the FROM items before it that its arguments name, so it has no state and
 * no delta of its own. Joined laterally, it is evaluated again exactly for the rows of those items
 * that a term of the delta reads — for the changed rows, in their term — which is what maintains
 * it: {@code Δ(L ⋈ f(L)) = ΔL ⋈ f(ΔL)}. Its functions must not be volatile (checked for the whole
 * query).
 *
 * @param call    the call as written, without its alias ({@code unnest(t.arr) WITH ORDINALITY})
 * @param columns its column aliases
 */
public record FunctionScan(String call, List<String> columns) implements ItemOperator {
    public FunctionScan {
        columns = List.copyOf(columns);
    }

    /** The same rows whatever state is asked for, each with weight 1. */
    @Override
    public String sql(RowSource rows) {
        return ItemOperator.unitWeight(call, columns);
    }

    @Override
    public List<Operator> inputs() {
        return List.of();
    }

    @Override
    public String describe() {
        return "Function " + call.replaceAll("\\s+", " ");
    }

    @Override
    public String strategy() {
        return "evaluated laterally for the rows each term reads (no state of its own)";
    }
}
