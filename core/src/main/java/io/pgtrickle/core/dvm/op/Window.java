package io.pgtrickle.core.dvm.op;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code SELECT ..., f(...) OVER (PARTITION BY ...) ... FROM ... [WHERE ...] [WINDOW ...]} at the top
 * of the query: window functions over the rows of one SELECT without GROUP BY.
 *
 * <h2>The delta</h2>
 * A window function's value for a row depends only on the rows of the row's partition. So the rows
 * a change can affect are the rows of the partitions of the changed input rows, old and new images
 * alike, and for those partitions the result is recomputed from the current sources and replaces
 * what is stored for them: {@code Δ = Q¹|affected − stored|affected}. Every value comes from
 * PostgreSQL's own evaluation of the query over whole partitions, so the rule is exact for every
 * window function and frame; its cost is proportional to the affected partitions.
 *
 * <p>A query can use several windows. When their PARTITION BY lists share expressions, the shared
 * ones are the partitioning: a partition of every window lies inside one of them, and the
 * recomputation reads only the affected ones (the condition on their values is part of the
 * WHERE clause, where an index can serve it). Otherwise each window's partitioning is tracked on its
 * own: the query is evaluated whole and the rows of any affected partition are replaced. A window
 * without PARTITION BY makes every row depend on every other; such a query is left to FULL.
 *
 * @param from          the FROM clause, for the delta of the input rows
 * @param fromSql       the FROM clause as written
 * @param where         the WHERE condition (subqueries as slots), or null
 * @param list          the select list as written ({@code expression AS "name", ...})
 * @param items         the select list's expressions and names
 * @param partitionings the partitionings tracked, each a list of expressions as written; one list
 *                      (the shared expressions) or one per distinct PARTITION BY
 * @param windowClause  the query's {@code WINDOW ...} clause, or null
 * @param distinctOn    {@code DISTINCT ON (...)} as written, or null: then the query is a
 *                      {@code SELECT DISTINCT ON} (its keys the one partitioning, a partition's
 *                      result its first row in the ORDER BY)
 * @param orderBy       the query's {@code ORDER BY ...}, kept for DISTINCT ON (which it decides), else null
 */
public record Window(FromClause from, String fromSql, Template where, Template list, List<Project.Item> items,
                     List<List<String>> partitionings, String windowClause, String distinctOn, String orderBy)
        implements PartitionRecompute {
    public Window {
        items = List.copyOf(items);
        partitionings = partitionings.stream().map(List::copyOf).toList();
    }

    public String whereSql() {
        return where == null ? null : where.written();
    }

    @Override
    public String changedRows(String select, RowSource.Changes changes) {
        return from.select(Template.plain(select), where, changes);
    }

    @Override
    public String keyScope() {
        return fromSql;
    }

    @Override
    public String query(String extra, String condition) {
        List<String> conditions = new ArrayList<>();
        if (where != null) {
            conditions.add("(" + where.written() + ")");
        }
        if (condition != null) {
            conditions.add("(" + condition + ")");
        }
        return "SELECT " + (distinctOn == null ? "" : distinctOn + " ") + list.written() + (extra.isEmpty() ? "" : ", " + extra)
                + " FROM " + fromSql + (conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions))
                + (windowClause == null ? "" : " " + windowClause) + (orderBy == null ? "" : " " + orderBy);
    }

    @Override
    public List<String> columns() {
        return items.stream().map(Project.Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(where == null ? from.operator() : new Filter(from.operator(), whereSql(), !where.sublinks().isEmpty()));
    }

    @Override
    public String describe() {
        if (distinctOn != null) {
            return distinctOn.replaceAll("\\s+", " ") + " " + items.stream().map(Project.Item::name).collect(Collectors.joining(", "))
                    + (orderBy == null ? "" : " " + orderBy.replaceAll("\\s+", " "));
        }
        return "Window " + partitionings.stream().map(p -> "PARTITION BY " + String.join(", ", p))
                .collect(Collectors.joining("; ")) + "; " + items.stream().map(Project.Item::name).collect(Collectors.joining(", "));
    }

    @Override
    public String strategy() {
        if (distinctOn != null) {
            return "group recompute (the first row of each affected DISTINCT ON group)";
        }
        return pushedDown() ? "partition recompute (affected partitions only)"
                : "partition recompute (the query evaluated whole, rows of affected partitions replaced)";
    }
}
