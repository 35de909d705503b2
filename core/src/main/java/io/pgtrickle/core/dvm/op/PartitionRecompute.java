package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.IntStream;

/**
 * A query maintained by recomputing the partitions its changes touch: its rows fall into
 * partitions (by expressions of its input), a row's value depends only on the rows of its
 * partition, and filtering the input by whole partitions leaves the other partitions' rows as they
 * are. Window functions (partitions: PARTITION BY), DISTINCT ON (its keys) and set operations (the
 * whole row) are such queries. The compiler turns one into: the partitions of the changed input
 * rows; the query recomputed over those partitions; their stored rows replaced.
 */
public sealed interface PartitionRecompute extends Operator permits Window, SetOperation, WholeRecompute {
    /** The partitionings tracked, each a list of key expressions over the query's input. */
    List<List<String>> partitionings();

    /** Whether the recomputation can be restricted to the affected partitions before it is evaluated. */
    default boolean pushedDown() {
        return partitionings().size() == 1;
    }

    /** The engine's names of the pushed-down partition keys: {@code __pgt_g0, __pgt_g1, ...}. */
    default List<String> keyNames() {
        return IntStream.range(0, partitionings().get(0).size()).mapToObj(i -> "__pgt_g" + i).toList();
    }

    /** {@code select} (expressions over the input, e.g. the keys) for every changed input row, old and new images alike. */
    String changedRows(String select, RowSource.Changes changes);

    /**
     * The query with {@code extra} output items, its input restricted by {@code condition} (over the
     * input, true for whole partitions; null for none) before the query is evaluated.
     */
    String query(String extra, String condition);

    /** A FROM clause over which the key expressions can be evaluated, to learn their types. */
    String keyScope();
}
