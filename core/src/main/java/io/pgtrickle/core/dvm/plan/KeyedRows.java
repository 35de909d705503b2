package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.build.TreeBuilder;
import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.Scan;
import io.pgtrickle.core.dvm.op.SingleFrom;
import io.pgtrickle.core.dvm.op.Template;
import java.util.HashSet;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether every row of a query is unique by construction: a filter and projection of one table
 * whose select list names every column of the table's primary key as it is. Such a result never
 * holds two equal rows before or after any change, so a content's net change in a window is -1
 * (it was stored, once) or +1 (it was not), and a refresh need not count the stored rows equal to
 * it. Distinct key values are unequal, so their contents have different hashes (64 bits; the same
 * odds as two row identities).
 */
final class KeyedRows {
    private static final String PART = "(\"(?:[^\"]|\"\")+\"|[a-z_][a-z0-9_$]*)";
    /**
     * {@code [alias.]column}, each part bare or double-quoted, as pg_get_viewdef prints a column
     * reference (without the alias when the query reads one relation).
     */
    private static final Pattern COLUMN_REFERENCE = Pattern.compile("(?:" + PART + "\\.)?" + PART);

    private KeyedRows() {
    }

    static boolean unique(LinearOperator root) {
        if (!(root instanceof Project p) || !plain(p.list()) || (p.where() != null && !plain(p.where()))
                || !(p.from().root() instanceof SingleFrom from) || !(from.item() instanceof Scan scan) || scan.key().isEmpty()) {
            return false;
        }
        Set<String> named = new HashSet<>();
        for (Project.Item item : p.items()) {
            Matcher m = COLUMN_REFERENCE.matcher(item.expression().strip());
            if (m.matches() && (m.group(1) == null || TreeBuilder.unquote(m.group(1)).equals(from.alias()))) {
                named.add(TreeBuilder.unquote(m.group(2)));
            }
        }
        return named.containsAll(scan.key());
    }

    /** Without subqueries, whose deltas take the general path (kept to the simple case on purpose). */
    private static boolean plain(Template t) {
        return t.sublinks().isEmpty();
    }
}
