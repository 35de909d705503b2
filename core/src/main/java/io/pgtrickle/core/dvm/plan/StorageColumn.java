package io.pgtrickle.core.dvm.plan;

/** A column of a storage table: the query's visible ones and pg_trickle's hidden {@code __pgt_*} ones. */
public record StorageColumn(String name, String type, String collation, boolean visible) {
}
