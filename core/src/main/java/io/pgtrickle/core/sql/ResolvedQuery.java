package io.pgtrickle.core.sql;

import java.util.List;

/**
 * A defining query as PostgreSQL resolved it.
 *
 * @param canonicalQuery the query as PostgreSQL prints it back: names schema-qualified, views kept
 * @param columns        output columns with their types as PostgreSQL derives them
 * @param sources        every relation the query reads, views expanded to what they read
 * @param volatileFunctions functions marked VOLATILE (results may differ on each call)
 * @param stableFunctions functions marked STABLE (constant within a statement, not across refreshes)
 * @param functionsUsed  every function the query calls, qualified
 */
public record ResolvedQuery(
        String canonicalQuery,
        List<OutputColumn> columns,
        List<SourceRelation> sources,
        List<String> volatileFunctions,
        List<String> stableFunctions,
        List<String> functionsUsed) {

    /**
     * One output column: its name, its type as {@code format_type} prints it, its collation when not
     * the type's default (qualified, quoted), whether it hashes by value, and whether its collation
     * is deterministic (or it has none).
     */
    public record OutputColumn(String name, String type, String collation, boolean hashable, boolean deterministic) {
    }

    /** A relation read by the query. */
    public record SourceRelation(long relid, String schema, String name, SourceKind kind,
                                 List<String> columnsUsed, boolean viaViewOnly) {
        public QualifiedName qualifiedName() {
            return QualifiedName.of(schema, name);
        }
    }

    /** Relation kinds a stream table can read. */
    public enum SourceKind {
        TABLE, PARTITIONED_TABLE, VIEW, MATVIEW, FOREIGN_TABLE, STREAM_TABLE;

        /** Kinds whose changes the capture triggers can see. */
        public boolean capturable() {
            return this == TABLE || this == PARTITIONED_TABLE || this == STREAM_TABLE;
        }

        /** The {@code pgt_dependencies.source_type} value. */
        public String catalogType() {
            return switch (this) {
                case TABLE, PARTITIONED_TABLE -> "TABLE";
                case VIEW -> "VIEW";
                case MATVIEW -> "MATVIEW";
                case FOREIGN_TABLE -> "FOREIGN_TABLE";
                case STREAM_TABLE -> "STREAM_TABLE";
            };
        }
    }
}
