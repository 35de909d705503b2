package io.pgtrickle.core.dvm.op;

/**
 * Operators with {@code Δ(op(Q)) = op(ΔQ)}: they pass deltas straight through, row by row, so
 * their delta SQL is their own SQL applied to the input's delta.
 */
public sealed interface LinearOperator extends Operator permits Scan, Project, UnionAll {
    /** Output columns plus {@code __pgt_w}, over the changes or the current state of the sources. */
    String sql(RowSource rows);

    @Override
    default String strategy() {
        return "incremental (linear)";
    }
}
