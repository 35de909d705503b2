package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Select;

/**
 * Replaces views in FROM by their definitions (as PostgreSQL prints them, names qualified), one at
 * a time, so that the tree reads the tables whose changes are captured.
 */
final class ViewInliner {
    private ViewInliner() {
    }

    /** The query text with its first view replaced by the view's definition, or null when it reads no view. */
    static String inlineFirstView(Statement st, String sql, TreeBuilder.Resolver resolver) throws Unsupported {
        for (FromItem item : FromItems.atAnyDepth((Select) st, sql)) {
            if (item instanceof Table t && t.getSchemaName() != null) { // unqualified: a CTE reference
                TreeBuilder.Relation r = resolver.relation(t.getFullyQualifiedName());
                if ("v".equals(r.kind())) {
                    Span span = Spans.of(t);
                    if (span == null) {
                        throw new Unsupported("cannot locate view " + t.getFullyQualifiedName() + " in the query text");
                    }
                    String alias = t.getAlias() != null ? t.getAlias().getName() : t.getName();
                    return sql.substring(0, span.begin()) + "(" + QueryParser.prepared(r.viewDefinition()) + ") " + alias + sql.substring(span.end());
                }
            }
        }
        return null;
    }
}
