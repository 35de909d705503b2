package io.pgtrickle.core.api;

/**
 * The result of comparing a stream table with its defining query, as multisets over the visible
 * columns, in one snapshot.
 *
 * @param storedOnly rows stored but not produced by the query (counted with multiplicity)
 * @param queryOnly  rows the query produces that are not stored
 */
public record Verification(String streamTable, long storedRows, long storedOnly, long queryOnly) {
    public boolean consistent() {
        return storedOnly == 0 && queryOnly == 0;
    }
}
