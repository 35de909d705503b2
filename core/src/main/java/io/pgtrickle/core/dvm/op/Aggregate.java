package io.pgtrickle.core.dvm.op;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code γ_{G; aggs}(Q)} with optional HAVING, as the top of the query. Maintained by recomputing
 * only the affected groups: the groups of the changed input rows are collected from {@code ΔQ},
 * their aggregates recomputed from the current input, and each group's row replaced (or deleted
 * when the group emptied or no longer satisfies HAVING). Exact for every aggregate, since every
 * value comes from PostgreSQL's own aggregate over the group; cost is proportional to the size of
 * the affected groups, not of the table.
 *
 * @param from     the FROM clause (one item or an inner join), for the delta
 * @param fromSql  the FROM clause as written (its current state)
 * @param where    the WHERE condition (subqueries as slots), or null
 * @param keys     GROUP BY expressions as written; empty for a scalar aggregate
 * @param calls    aggregate calls as written, referred to as {@code __pgt_f.__pgt_a<i>}
 * @param outputs  the select list with aggregates and keys replaced by {@code __pgt_f.__pgt_a<i>} and
 *                 {@code __pgt_f.__pgt_g<j>}
 * @param having   HAVING with the same replacements, or null
 * @param written  the select list and HAVING as written, for the FULL query
 */
public record Aggregate(FromClause from, String fromSql, Template where, List<String> keys,
                        List<String> calls, List<Project.Item> outputs, String having, Written written)
        implements Operator {
    /** The select list and HAVING as the user's query has them. */
    public record Written(List<Project.Item> items, String having) {
        public Written {
            items = List.copyOf(items);
        }
    }

    public Aggregate {
        keys = List.copyOf(keys);
        calls = List.copyOf(calls);
        outputs = List.copyOf(outputs);
    }

    /** The WHERE condition as written, or null. */
    public String whereSql() {
        return where == null ? null : where.written();
    }

    public boolean scalar() {
        return keys.isEmpty();
    }

    @Override
    public List<String> columns() {
        return outputs.stream().map(Project.Item::name).toList();
    }

    @Override
    public List<Operator> inputs() {
        return List.of(where == null ? from.operator() : new Filter(from.operator(), whereSql(), !where.sublinks().isEmpty()));
    }

    @Override
    public String describe() {
        String groups = scalar() ? "no GROUP BY (one row)" : "GROUP BY " + String.join(", ", keys);
        return "Aggregate " + groups + "; " + calls.stream().map(c -> c.replaceAll("\\s+", " "))
                .collect(Collectors.joining(", ")) + (having == null ? "" : "; HAVING");
    }

    @Override
    public String strategy() {
        return "group recompute (affected groups only)";
    }
}
