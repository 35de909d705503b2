package io.pgtrickle.core.dvm.build;

import io.pgtrickle.core.dvm.build.Spans.Span;
import java.util.List;
import java.util.stream.Collectors;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.select.FromItem;
import net.sf.jsqlparser.statement.select.Select;
import net.sf.jsqlparser.statement.select.WithItem;

/**
 * Replaces the references to a common table expression of the top-level WITH by the expression's
 * query, as a subquery under the reference's name (with the CTE's column names), one at a time;
 * once nothing refers to the WITH clause any more, removes it. A non-recursive CTE of a query that
 * PostgreSQL accepted as a view reads no volatile data-modifying statement, so it means the same
 * inlined: the tree then maintains each reference like any subquery (equal references share one
 * delta per refresh, see {@code RowSource.Changes#shared}).
 */
final class CteInliner {
    private CteInliner() {
    }

    /** The query text with one CTE reference (or the emptied WITH clause) inlined; null when it has no WITH. */
    static String inlineFirst(Statement st, String sql) throws Unsupported {
        List<WithItem<?>> with = ((Select) st).getWithItemsList();
        if (with == null || with.isEmpty()) {
            return null;
        }
        for (WithItem<?> w : with) {
            if (w.isRecursive()) {
                throw new Unsupported("WITH RECURSIVE (a later release)");
            }
            if (w.getSelect() == null) {
                throw new Unsupported("a data-modifying statement in WITH");
            }
        }
        // PostgreSQL prints every table schema-qualified: an unqualified name in FROM is a CTE.
        for (FromItem item : FromItems.atAnyDepth((Select) st, sql)) {
            if (item instanceof Table t && t.getSchemaName() == null) {
                WithItem<?> cte = with.stream().filter(w -> TreeBuilder.unquote(w.getAliasName()).equals(TreeBuilder.unquote(t.getName())))
                        .findFirst().orElse(null);
                if (cte == null) {
                    continue;
                }
                if (t.getAlias() != null && t.getAlias().getAliasColumns() != null) {
                    throw new Unsupported("column aliases on a reference to common table expression " + t.getName());
                }
                Span ref = Spans.of(t);
                Span body = Spans.of(cte.getSelect());
                if (ref == null || body == null) {
                    throw new Unsupported("cannot locate common table expression " + t.getName() + " in the query text");
                }
                String alias = t.getAlias() != null ? t.getAlias().getName() : t.getName();
                String columns = cte.getWithItemList() == null ? ""
                        : cte.getWithItemList().stream().map(c -> c.toString()).collect(Collectors.joining(", ", "(", ")"));
                return sql.substring(0, ref.begin()) + body.of(sql) + " " + alias + columns + sql.substring(ref.end());
            }
        }
        Span last = Spans.of(with.get(with.size() - 1).getSelect());
        int start = sql.toUpperCase(java.util.Locale.ROOT).indexOf("WITH");
        if (last == null || start < 0 || start > last.begin()) {
            throw new Unsupported("cannot locate the WITH clause in the query text");
        }
        return sql.substring(0, start) + sql.substring(last.end());
    }
}
