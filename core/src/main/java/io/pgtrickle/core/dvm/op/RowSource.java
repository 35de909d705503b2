package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongFunction;
import java.util.stream.Collectors;

/**
 * What an operator tree reads at its leaves: the captured changes of each source (its delta), the
 * sources as they are now, or the sources as they were at the previous refresh. The same tree
 * renders all three, so the FULL and the differential SQL cannot drift apart.
 */
public sealed interface RowSource permits RowSource.Changes, RowSource.Current, RowSource.Old {
    /** Rows of a scan: its columns plus {@code __pgt_w}. */
    String scan(Scan scan);

    /**
     * The change window of each source's buffer: bound at refresh time, {@code $1} the refresh's
     * snapshot, {@code $2} the previous frontier and, when {@code sourcesBound}, {@code $3} the
     * sources (oid[]) whose buffer has rows in the window, NULL when not known.
     *
     * <p>With {@code $3}, every read of a source's changes carries {@link #mayHaveChanged}: the
     * refresh binds the parameters before PostgreSQL plans the statement, so for a source without
     * changes the condition is the constant false and every term of the delta that joins its
     * (empty) changes is removed from the plan. Without it, such a term was still planned, with
     * estimates that made it look like thousands of rows, and executed.
     */
    record Changes(LongFunction<String> bufferTable, boolean sourcesBound, Map<Object, String[]> ctes, int[] names,
                   boolean netted) implements RowSource {
        public Changes(LongFunction<String> bufferTable) {
            this(bufferTable, false);
        }

        public Changes(LongFunction<String> bufferTable, boolean sourcesBound) {
            this(bufferTable, sourcesBound, new LinkedHashMap<>(), new int[1], true);
        }

        /**
         * The same window (and statement: shared CTEs are registered with this one) whose scans are
         * every captured row with its weight, not netted per row content. Only for a reader that is
         * linear in its input and evaluates nothing that can raise on a row (a transient row is then
         * summed in and out again): a sum of weights over them equals the sum over the netted rows,
         * without the sort or hash of every changed row that netting costs.
         */
        public Changes unnetted() {
            return new Changes(bufferTable, sourcesBound, ctes, names, false);
        }

        /**
         * A condition that is false only when the source {@code relid} has no change in the window:
         * {@code $3} lists the sources with changes (NULL: not known, so true). Without {@code $3}
         * the constant true.
         */
        String mayHaveChanged(long relid) {
            return sourcesBound ? "coalesce(" + relid + "::oid = ANY ($3::oid[]), true)" : "true";
        }

        /**
         * Net effect per row content: a row inserted and deleted in the window cancels here, before
         * any expression of the query is evaluated on it (a transient row must not raise, say, a
         * division by zero that the FULL query would never see). Every captured row, {@link #unnetted}.
         */
        @Override
        public String scan(Scan s) {
            if (!netted && !s.columns().isEmpty()) {
                return "SELECT " + prefixed("w", s.columns()) + ", w.__pgt_w1 AS __pgt_w FROM ("
                        + filteredWindow(bufferTable, s, s.changeFilter()) + ") w" + where(s);
            }
            if (s.columns().isEmpty()) {
                return "SELECT sum(b.__pgt_w1) AS __pgt_w FROM (" + window(bufferTable, s) + ") b" + where(s)
                        + " HAVING sum(b.__pgt_w1) <> 0";
            }
            return "SELECT " + prefixed("n", s.columns()) + ", n.__pgt_w FROM " + filtered(s) + " n" + where(s);
        }

        /**
         * {@link #consolidated} of the changes {@link Scan#changeFilter} keeps, netted after the filter
         * (a CTE of its own: a previous state must see every change); without a filter the same.
         */
        private String filtered(Scan s) {
            Scan.ChangeFilter f = s.changeFilter();
            return f == null ? consolidated(s) : shared(java.util.List.of(s.relid(), f), uniqueName("__pgt_chg_" + s.relid() + "_f"),
                    () -> RowSource.consolidated(bufferTable, s, where(s), f));
        }

        /** {@code WHERE} {@link #mayHaveChanged} of {@code s}'s source, or nothing without {@code $3}. */
        private String where(Scan s) {
            return sourcesBound ? " WHERE " + mayHaveChanged(s.relid()) : "";
        }

        /** {@code AND} {@link #mayHaveChanged} of {@code s}'s source, or nothing without {@code $3}. */
        private String and(Scan s) {
            return sourcesBound ? " AND " + mayHaveChanged(s.relid()) : "";
        }

        /**
         * The consolidated changes of a source (columns, [{@code __pgt_c},] {@code __pgt_w}) as the name
         * of a CTE that {@link #with} defines once for the whole statement: every term of a delta, and
         * every lateral lookup of an old state, reads it without recomputing it.
         */
        String consolidated(Scan s) {
            return shared(s.relid(), "__pgt_chg_" + s.relid(), () -> RowSource.consolidated(bufferTable, s, where(s), null));
        }

        /**
         * The name of a MATERIALIZED CTE holding {@code body}, defined once per statement for {@code key}
         * (equal keys share it): a result that several terms of a delta read is computed once. The body
         * is rendered before it is registered, so the CTEs it reads come first.
         */
        public String shared(Object key, String name, java.util.function.Supplier<String> body) {
            String[] known = ctes.get(key);
            if (known != null) {
                return known[0];
            }
            String definition = body.get();
            known = ctes.get(key); // the body may have registered the same key
            if (known != null) {
                return known[0];
            }
            ctes.put(key, new String[] {name, name + " AS MATERIALIZED (" + definition + ")"});
            return name;
        }

        /** The contents of {@code s} the window inserted (net), with their columns. */
        public String inserted(Scan s) {
            return "SELECT " + prefixed("n", s.columns()) + " FROM " + consolidated(s) + " n WHERE n.__pgt_w > 0" + and(s);
        }

        /** The contents of {@code s} the window deleted (net), with their columns. */
        public String deleted(Scan s) {
            return "SELECT " + prefixed("n", s.columns()) + " FROM " + consolidated(s) + " n WHERE n.__pgt_w < 0" + and(s);
        }

        /** Whether the source {@code relid} has any captured change in the window, as a condition. */
        public String anyChange(long relid) {
            String exists = "EXISTS (SELECT 1 FROM (" + window(bufferTable, relid) + ") __pgt_any)";
            return sourcesBound ? "(" + mayHaveChanged(relid) + " AND " + exists + ")" : exists;
        }

        /** A name for a shared result of the statement that no other one has. */
        public String uniqueName(String prefix) {
            return prefix + names[0]++;
        }

        /** {@code sql} (rendered with this source) preceded by the CTEs it reads. */
        public String with(String sql) {
            return ctes.isEmpty() ? sql : "WITH " + ctes.values().stream().map(c -> c[1]).collect(Collectors.joining(", "))
                    + " SELECT * FROM (" + sql + ") __pgt_all";
        }
    }

    /** The sources as they are now, each row with weight 1. */
    record Current() implements RowSource {
        @Override
        public String scan(Scan s) {
            return "SELECT " + s.columns().stream().map(c -> Sql.quoteIdent(c) + ", ").collect(Collectors.joining())
                    + "1 AS __pgt_w FROM " + s.table();
        }
    }

    /**
     * The sources as they were at the previous frontier, as a real relation: every row present then,
     * weight = its multiplicity (&gt; 0). Rows whose content did not change in the window are read
     * from the table as they are; each changed content appears once with the count it had before,
     * the count it has now minus its net change. Looking up the count uses the NOT NULL columns
     * with equality, so a keyed table answers from its index. A table with a primary key is read by
     * key instead: the rows of untouched keys, and the deleted content of each touched one.
     */
    record Old(Changes changes) implements RowSource {
        @Override
        public String scan(Scan s) {
            if (s.columns().isEmpty()) {
                return "SELECT 1 AS __pgt_w FROM (SELECT count(*) - coalesce((SELECT sum(b.__pgt_w1) FROM ("
                        + window(changes.bufferTable(), s) + ") b), 0) AS n FROM " + s.table() + ") o, pgtrickle._ordinals(1, o.n)";
            }
            Parts p = parts(s);
            return p.untouched() + " UNION ALL " + p.changedBefore();
        }

        /** Whether every row of {@link #scan} weighs 1: the table has a primary key, or no column is read. */
        public boolean rowPerRow(Scan s) {
            return s.columns().isEmpty() || !s.key().isEmpty();
        }

        /**
         * The previous state of {@code s} one row per row, as a subquery reads a table: multiplicities
         * expanded. Only the changed contents of a table without a primary key can stand for more
         * than one row; the rows read from the table, and every row of a keyed one, are read once
         * with no expansion (a set-returning call per row cost TPC-H Q18 3 s of its 4 s over
         * 600,000 line items).
         *
         * <p>{@code by}: for a table read by a subquery whose WHERE equates the columns of {@code by}
         * with values of an outer row ({@link Sublink.Table#correlation}; empty: none). Such a subquery
         * is evaluated once per outer row, and each evaluation would scan the changed rows (a CTE,
         * which has no index): quadratic in the changes (TPC-H Q20: 6,000 changed line items scanned
         * for each of 80,000 part suppliers, 70 s). Then the changed rows are read only when the outer
         * row's values are among the changed rows' (a lookup in a hash of them built once: PostgreSQL
         * evaluates a condition on outer values alone once per evaluation, before reading); the
         * equalities leave out every other changed row anyway. The condition is in a SELECT of its own
         * so that no alias of ours hides the outer row's.
         */
        public String rows(Scan s, List<Sublink.Probe> by) {
            if (s.columns().isEmpty()) {
                return scan(s);
            }
            Parts p = parts(s);
            List<Sublink.Probe> read = by.stream().filter(x -> s.columns().contains(x.column())).toList();
            String changed = read.isEmpty() ? p.changedBefore() : "SELECT * FROM (" + p.changedBefore() + ") __pgt_b WHERE ("
                    + read.stream().map(Sublink.Probe::value).collect(Collectors.joining(", ")) + ") IN (SELECT "
                    + read.stream().map(x -> "c." + Sql.quoteIdent(x.column())).collect(Collectors.joining(", "))
                    + " FROM " + changes.consolidated(s) + " c)";
            if (rowPerRow(s)) {
                return p.untouched() + " UNION ALL " + changed;
            }
            return p.untouched() + " UNION ALL SELECT " + prefixed("e", s.columns()) + ", 1 FROM (" + changed
                    + ") e, pgtrickle._ordinals(1, e.__pgt_n)";
        }

        /**
         * The previous state in two parts, whose UNION ALL it is: the rows the window did not touch
         * (read from the table) and the changed contents as they were, each with its multiplicity.
         */
        public record Parts(String untouched, String changedBefore) {
        }

        /** {@link #scan}'s two parts, for a table with columns. */
        public Parts parts(Scan s) {
            String cols = s.columns().stream().map(Sql::quoteIdent).collect(Collectors.joining(", "));
            String changed = changes.consolidated(s);
            // Without changes of the source (known when the refresh binds $3) the table as it is.
            String unchanged = changes.sourcesBound() ? "NOT " + changes.mayHaveChanged(s.relid()) + " OR " : "";
            String changedOnly = changes.and(s);
            if (!s.key().isEmpty()) {
                // One row per key at any time: the rows of keys the window did not touch, and for the
                // keys it did, the content it deleted (net -1: the one present before). Found by key,
                // without turning every row of the table into text.
                return new Parts("SELECT " + cols + ", 1 AS __pgt_w FROM " + s.table() + " t WHERE " + unchanged + "("
                        + prefixed("t", s.key()) + ") NOT IN (SELECT " + prefixed("c", s.key()) + " FROM " + changed + " c)",
                        "SELECT " + prefixed("o", s.columns()) + ", 1 FROM " + changed + " o WHERE o.__pgt_w < 0" + changedOnly);
            }
            String lookup = s.indexable().stream().map(c -> "x." + Sql.quoteIdent(c) + " = n." + Sql.quoteIdent(c) + " AND ")
                    .collect(Collectors.joining());
            // NOT IN over a never-NULL text: PostgreSQL hashes the changed contents once, also
            // inside a lateral lookup that runs once per outer row (NOT EXISTS re-scanned them).
            return new Parts("SELECT " + cols + ", 1 AS __pgt_w FROM " + s.table() + " t WHERE " + unchanged + content("t", s.columns())
                    + " NOT IN (SELECT c.__pgt_c FROM " + changed + " c)",
                    "SELECT " + prefixed("o", s.columns()) + ", o.__pgt_n FROM (SELECT n.*, (SELECT count(*) FROM "
                    + s.table() + " x WHERE " + lookup + content("x", s.columns()) + " = n.__pgt_c) - n.__pgt_w AS __pgt_n FROM "
                    + changed + " n) o WHERE o.__pgt_n > 0" + changedOnly);
        }
    }

    /** The buffer rows of the window, each with {@code __pgt_w1} = +1 (I) or -1 (D). */
    private static String window(LongFunction<String> bufferTable, Scan s) {
        return window(bufferTable, s.relid());
    }

    private static String window(LongFunction<String> bufferTable, long relid) {
        // The xid range holds every row of the window (one not visible in $2 is at least its xmin;
        // one visible in $1 is below its xmax) and is what the store's xid index can search.
        return "SELECT *, CASE __pgt_action WHEN 'I' THEN 1 ELSE -1 END AS __pgt_w1 FROM " + bufferTable.apply(relid)
                + " WHERE __pgt_action IN ('I', 'D') AND __pgt_xid >= pg_snapshot_xmin($2::pg_snapshot)"
                + " AND __pgt_xid < pg_snapshot_xmax($1::pg_snapshot)"
                + " AND pg_visible_in_snapshot(__pgt_xid, $1::pg_snapshot)"
                + " AND NOT pg_visible_in_snapshot(__pgt_xid, $2::pg_snapshot)";
    }

    /** {@link #window}, filtered by {@code filter} (if any) under the alias its condition names the columns by. */
    private static String filteredWindow(LongFunction<String> bufferTable, Scan s, Scan.ChangeFilter filter) {
        return filter == null ? window(bufferTable, s)
                : "SELECT * FROM (" + window(bufferTable, s) + ") AS " + Sql.quoteIdent(filter.alias()) + " WHERE " + filter.condition();
    }

    /**
     * One row per changed content with a non-zero net weight: the columns, {@code __pgt_c} (the
     * content as text, which identifies it for every type; left out where nothing reads it: grouped
     * by value, of a table with a primary key) and {@code __pgt_w}. When equal values of
     * every column have the same text ({@link Scan#valueEqual}), grouped by the values (hashed; the
     * text is made once per content); else DISTINCT ON the text, which carries the values
     * (array_agg(..)[1] would not work for array columns).
     */
    private static String consolidated(LongFunction<String> bufferTable, Scan s, String where, Scan.ChangeFilter filter) {
        String window = filteredWindow(bufferTable, s, filter);
        if (s.valueEqual()) {
            // Only a keyless table's previous state looks rows up by their text (Old): a keyed one goes by key.
            String text = s.key().isEmpty() ? ", " + content("w", s.columns()) + " AS __pgt_c" : "";
            return "SELECT " + prefixed("w", s.columns()) + text + ", sum(w.__pgt_w1) AS __pgt_w"
                    + " FROM (" + window + ") w" + where + " GROUP BY " + prefixed("w", s.columns())
                    + " HAVING sum(w.__pgt_w1) <> 0";
        }
        return "SELECT * FROM (SELECT DISTINCT ON (b.__pgt_c) " + prefixed("b", s.columns())
                + ", b.__pgt_c, sum(b.__pgt_w1) OVER (PARTITION BY b.__pgt_c) AS __pgt_w FROM (SELECT w.*, "
                + content("w", s.columns()) + " AS __pgt_c FROM (" + window + ") w" + where
                + ") b) n WHERE n.__pgt_w <> 0";
    }

    /**
     * A row's content as text: the identity of a row content for every column type. In the "C"
     * collation: only its equality matters, and sorting or hashing it then compares bytes instead of
     * going through the database's collation.
     */
    static String content(String alias, List<String> columns) {
        return "(ROW(" + prefixed(alias, columns) + "))::text COLLATE \"C\"";
    }

    private static String prefixed(String alias, List<String> columns) {
        return columns.stream().map(c -> alias + "." + Sql.quoteIdent(c)).collect(Collectors.joining(", "));
    }
}
