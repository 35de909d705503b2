package io.pgtrickle.core.dvm.plan;

/**
 * How the rows of a stream table are identified; the same in FULL and DIFFERENTIAL, so switching
 * modes never duplicates or orphans a row.
 */
public enum Shape {
    /**
     * Any multiset of rows: {@code __pgt_hash} = hash of the row's content,
     * {@code __pgt_row_id} = hash(content hash, ordinal among equal rows). Duplicates are kept.
     */
    MULTISET,
    /** SELECT DISTINCT: row id = hash of the row; {@code __pgt_count} = how many input rows produce it. */
    DISTINCT,
    /** GROUP BY (or a scalar aggregate): row id = hash of the group key. */
    AGGREGATE,
    /**
     * Window functions, DISTINCT ON, set operations (rows recomputed a partition at a time):
     * {@code __pgt_part<j>} = hash of the row's partition keys (one per tracked partitioning), row
     * id = hash(content and partitions, ordinal among equal rows).
     */
    PARTITIONED
}
