package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import io.pgtrickle.core.dvm.plan.CompiledQuery;
import io.pgtrickle.core.dvm.plan.Shape;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The lock IMMEDIATE maintenance takes, chosen once at compile time.
 *
 * <p>ROW: the stream table is a filter/projection of one source that keeps the source's primary
 * key, so every stored row comes from exactly one source row; two writers maintain disjoint
 * stored rows, and the row locks they hold on the source already order writers of the same row.
 * EXCLUSIVE otherwise: a writer's delta reads the state other writers change (a join partner, a
 * group, a duplicate), so writers of any source serialise on the stream table until commit.
 *
 * @param reason why ROW does not suffice; null for ROW
 */
record ImmediateLock(String mode, String reason) {
    static final ImmediateLock ROW = new ImmediateLock("ROW", null);

    static ImmediateLock choose(Connection conn, CompiledQuery q) throws SQLException {
        if (q.shape() == Shape.DISTINCT) {
            return exclusive("DISTINCT: writers share stored rows");
        }
        if (q.shape() == Shape.PARTITIONED) {
            return exclusive("partition recompute: writers share partitions");
        }
        if (q.shape() != Shape.MULTISET) {
            return exclusive("aggregate: writers share groups");
        }
        if (!(q.root() instanceof Project p) || !(p.from().root() instanceof SingleFrom from)
                || !(from.item() instanceof Scan scan)) {
            return exclusive("several sources or a nested query: a writer's delta reads what others change");
        }
        if ((p.where() != null && !p.where().sublinks().isEmpty()) || !p.list().sublinks().isEmpty()) {
            return exclusive("subquery: a writer's delta reads what others change");
        }
        List<String> key = Jdbc.queryStrings(conn, "SELECT unnest(pgtrickle._primary_key(?::oid))", scan.relid());
        if (key.isEmpty()) {  // a DEFERRABLE key is checked only at commit: none for the writers before it
            return exclusive("source without a primary key: equal rows of several writers share stored rows");
        }
        Set<String> output = new HashSet<>();
        for (Project.Item item : p.items()) {
            output.add(bareColumn(item.expression(), from.alias()));
        }
        if (!output.containsAll(key)) {
            return exclusive("the source's primary key is not in the output: rows of several writers may coincide");
        }
        return ROW;
    }

    private static ImmediateLock exclusive(String reason) {
        return new ImmediateLock("EXCLUSIVE", reason);
    }

    /** The column an output expression names, when it is just a (qualified) column; else the text. */
    private static String bareColumn(String expression, String alias) {
        String e = expression.strip();
        if (alias != null) {
            for (String prefix : List.of(alias + ".", "\"" + alias + "\".")) {
                if (e.startsWith(prefix)) {
                    e = e.substring(prefix.length());
                }
            }
        }
        if (e.length() > 1 && e.startsWith("\"") && e.endsWith("\"") && e.indexOf('"', 1) == e.length() - 1) {
            return e.substring(1, e.length() - 1);
        }
        return e.matches("[A-Za-z_][A-Za-z0-9_$]*") ? e.toLowerCase(Locale.ROOT) : e;
    }
}
