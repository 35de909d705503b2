package io.pgtrickle.core.dvm.op;

import java.util.List;

/**
 * A node of the operator tree a defining query compiles to. Each operator owns its delta rule
 * (see the implementations' class comments) and renders it as PostgreSQL SQL; expressions of the
 * user's query are carried through as PostgreSQL text.
 *
 * <p>A delta is a Z-set: the operator's output columns plus {@code __pgt_w}, the weight of the row
 * (+1 inserted, -1 deleted; consolidation happens once, at the apply).
 */
public sealed interface Operator permits ItemOperator, Distinct, Filter, Join, PartitionRecompute {
    /** Output column names, in order. */
    List<String> columns();

    List<Operator> inputs();

    /** One line for explain: the operator and its parameters. */
    String describe();

    /** How it is maintained, for explain. */
    String strategy();
}
