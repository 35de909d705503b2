package io.pgtrickle.core.dvm.op;

/**
 * Operators with {@code Δ(op(Q)) = op(ΔQ)}: they pass deltas straight through, row by row, so
 * their delta SQL is their own SQL applied to the input's delta.
 */
public sealed interface LinearOperator extends ItemOperator permits Scan, Project, UnionAll {
    @Override
    default String strategy() {
        return "incremental (linear)";
    }
}
