package io.pgtrickle.core.dvm.op;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Re-aggregates only the groups listed in a CTE of affected group keys. NULL-safe equality (IS NOT
 * DISTINCT FROM) cannot use an index or a hash, and matching with it made a refresh scan the whole
 * input once per affected group (20 s for 5,000 changed rows of 50,000 in the benchmark). So groups
 * whose keys are all non-NULL are matched with {@code (keys) IN (...)} — a semi-join that can use an
 * index on the keys — and the rare groups with a NULL key by a second branch that PostgreSQL skips
 * at once (a one-time filter) when no such group is affected.
 */
public final class AffectedGroups {
    private AffectedGroups() {
    }

    /**
     * @param list      the select list (keys and aggregates)
     * @param affected  the CTE with columns g0..gn, read as {@code __pgt_a} (the user's aliases are
     *                  visible there); {@code filter} restricts it (may be null)
     * @param having    the query's HAVING, or null
     */
    public static String select(String list, String fromSql, String where, List<String> keys, List<String> g,
                                String affected, String filter, String having) {
        String w = where == null ? "" : "(" + where + ") AND ";
        String groupBy = " GROUP BY " + String.join(", ", keys);
        String plain = "SELECT " + list + " FROM " + fromSql + " WHERE " + w + withoutNulls(keys, g, affected, filter)
                + groupBy + (having == null ? "" : " HAVING " + having);
        List<String> keyNull = keys.stream().map(k -> "(" + k + ") IS NULL").toList();
        String withNulls = "SELECT " + list + " FROM " + fromSql + " WHERE " + w + withNulls(keys, g, affected, filter)
                + groupBy + " HAVING (" + String.join(" OR ", keyNull) + ")" + (having == null ? "" : " AND (" + having + ")");
        return "(" + plain + ") UNION ALL (" + withNulls + ")";
    }

    /**
     * The rows of the affected partitions of a window query, the same way: {@code query} renders the
     * query restricted by a condition on the partition keys, which holds for whole partitions.
     */
    public static String partitions(java.util.function.UnaryOperator<String> query, List<String> keys, List<String> g,
                                    String affected) {
        String anyKeyNull = keys.stream().map(k -> "(" + k + ") IS NULL").collect(Collectors.joining(" OR "));
        return "(" + query.apply(withoutNulls(keys, g, affected, null)) + ") UNION ALL ("
                + query.apply("(" + anyKeyNull + ") AND " + withNulls(keys, g, affected, null)) + ")";
    }

    /**
     * The row's keys are those of an affected group, none of them NULL. One key is compared with
     * an array of the affected keys, built once: the CTE of affected keys is estimated at a row or
     * so whatever it holds, and an IN over it became a nested loop that compared every source row
     * with every affected key as a tuple (TPC-H Q15: 2.9 million comparisons, 470 ms), or a hash
     * join in another run. The array keeps an index on the key usable, and without one is searched
     * in memory.
     */
    private static String withoutNulls(List<String> keys, List<String> g, String affected, String filter) {
        String keyTuple = keys.stream().map(k -> "(" + k + ")").collect(Collectors.joining(", "));
        String gTuple = g.stream().map(x -> "__pgt_a." + x).collect(Collectors.joining(", "));
        String from = " FROM " + affected + " __pgt_a WHERE " + (filter == null ? "" : filter + " AND ") + "true";
        if (keys.size() == 1) {
            return keyTuple + " = ANY (ARRAY(SELECT " + gTuple + from + "))";
        }
        return "(" + keyTuple + ") IN (SELECT " + gTuple + from + ")";
    }

    /**
     * The row's keys equal those of an affected group NULL-safely; the first EXISTS is false at once
     * (a one-time filter) when no affected group has a NULL key.
     */
    private static String withNulls(List<String> keys, List<String> g, String affected, String filter) {
        String f = filter == null ? "" : filter + " AND ";
        List<String> anyNull = new ArrayList<>();
        List<String> same = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            anyNull.add("__pgt_a." + g.get(i) + " IS NULL");
            same.add("__pgt_a." + g.get(i) + " IS NOT DISTINCT FROM (" + keys.get(i) + ")");
        }
        return "EXISTS (SELECT 1 FROM " + affected + " __pgt_a WHERE " + f + "(" + String.join(" OR ", anyNull) + "))"
                + " AND EXISTS (SELECT 1 FROM " + affected + " __pgt_a WHERE " + f + String.join(" AND ", same) + ")";
    }
}
