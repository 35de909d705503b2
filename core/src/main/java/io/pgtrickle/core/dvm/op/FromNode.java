package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Stream;

/** A node of a FROM clause: an item (table or subquery) or a join of two nodes. */
public sealed interface FromNode permits SingleFrom, Join {
    /** The items under this node, left to right. */
    List<SingleFrom> items();

    /** The operator for explain. */
    Operator operator();

    static List<SingleFrom> items(FromNode... nodes) {
        return Stream.of(nodes).flatMap(n -> n.items().stream()).toList();
    }
}
