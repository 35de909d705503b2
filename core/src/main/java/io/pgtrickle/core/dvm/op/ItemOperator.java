package io.pgtrickle.core.dvm.op;

/**
 * An operator that can stand as a FROM item: its rows can be rendered over any {@link RowSource} —
 * its current rows, its rows at the previous refresh (a real relation, weight = multiplicity) and
 * its delta (a Z-set). That is all a join needs of an input, whether the input is linear in its
 * sources or not.
 */
public sealed interface ItemOperator extends Operator permits LinearOperator, Aggregate, FunctionScan, LateralSubquery {
    /** Output columns plus {@code __pgt_w}, over the changes, the current or the previous state of the sources. */
    String sql(RowSource rows);
}
