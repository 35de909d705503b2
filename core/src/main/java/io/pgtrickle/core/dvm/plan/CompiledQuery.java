package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.op.Operator;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;

/**
 * Everything a stream table's refreshes run, compiled once at create and stored in the catalog.
 *
 * @param fullSql        {@code __pgt_row_id} then every storage column, from the current sources
 * @param changesSql     the differential changes ({@code __pgt_row_id}, {@code __pgt_action},
 *                       storage columns), one row per row id; null when not maintainable
 * @param unsupported    why DIFFERENTIAL is not possible, or null
 * @param root           the operator tree, or null when the query could not be built into one
 * @param rootStrategy   how the root is maintained when it differs from its operator's default, or null
 * @param directApplySql a differential apply statement of its own for PostgreSQL 18 and later, in
 *                       place of applying {@code changesSql} ({@link #differentialApplySql}), or null
 */
public record CompiledQuery(Shape shape, List<StorageColumn> storageColumns, String fullSql, String changesSql,
                            String unsupported, Operator root, String rootStrategy, String directApplySql) {
    public CompiledQuery {
        storageColumns = List.copyOf(storageColumns);
    }

    public CompiledQuery(Shape shape, List<StorageColumn> storageColumns, String fullSql, String changesSql,
                         String unsupported, Operator root, String rootStrategy) {
        this(shape, storageColumns, fullSql, changesSql, unsupported, root, rootStrategy, null);
    }

    /** How the root is maintained, as explain says it, when {@code applySql} is the differential statement in use. */
    public String rootStrategy(String applySql) {
        if (directApplySql == null || !directApplySql.equals(applySql)) {
            return rootStrategy;
        }
        return (rootStrategy == null ? root.strategy() : rootStrategy)
                + (shape == Shape.DISTINCT ? "; one MERGE adds the change to each stored row's count"
                        : "; one MERGE adds the change to each stored group");
    }

    /** The statement that applies the differential changes to {@code table}; null when not maintainable. */
    public String differentialApplySql(QualifiedName table, int serverVersionNum) {
        if (changesSql == null) {
            return null;
        }
        return directApplySql != null && serverVersionNum >= ApplySql.MERGE_RETURNING_OLD_VERSION ? directApplySql
                : ApplySql.render(table, storageColumns, changesSql, serverVersionNum);
    }

    public boolean differential() {
        return changesSql != null;
    }

    public List<StorageColumn> visibleColumns() {
        return storageColumns.stream().filter(StorageColumn::visible).toList();
    }

    /**
     * Whether a differential refresh looks up stored rows by their content hash ({@code __pgt_hash}),
     * so the storage table needs an index on it: a multiset whose rows can repeat. Rows unique by a
     * source's key are found by row id alone ({@link KeyedRows}); so are those of every other shape.
     */
    public boolean findsRowsByContent() {
        return shape == Shape.MULTISET && rowKey().isEmpty();
    }

    /** The output columns whose hash identifies a row of a multiset unique by a key ({@link KeyedRows}); empty otherwise. */
    List<String> rowKey() {
        return shape == Shape.MULTISET && root instanceof io.pgtrickle.core.dvm.op.LinearOperator l ? KeyedRows.key(l) : List.of();
    }

    public CompiledQuery withoutDifferential(String reason) {
        return new CompiledQuery(shape, storageColumns, fullSql, null, reason, root, rootStrategy, null);
    }
}
