package io.pgtrickle.core.dvm.op;

import io.pgtrickle.core.sql.Sql;
import java.util.function.LongFunction;
import java.util.stream.Collectors;

/**
 * What a linear operator tree reads at its leaves: the captured changes of each source (its
 * delta) or the sources themselves (its current state). The same tree renders both, so the FULL
 * and the differential SQL cannot drift apart.
 */
public sealed interface RowSource permits RowSource.Changes, RowSource.Current {
    /** Rows of a scan: its columns plus {@code __pgt_w}. */
    String scan(Scan scan);

    /**
     * The change window of each source's buffer: bound at refresh time, {@code $1} the refresh's
     * snapshot, {@code $2} the previous frontier.
     */
    record Changes(LongFunction<String> bufferTable) implements RowSource {
        /**
         * Net effect per row content: a row inserted and deleted in the window cancels here, before
         * any expression of the query is evaluated on it (a transient row must not raise, say, a
         * division by zero that the FULL query would never see). Grouping by the text form works for
         * every type; DISTINCT ON carries the values.
         */
        @Override
        public String scan(Scan s) {
            String window = "SELECT *, CASE __pgt_action WHEN 'I' THEN 1 ELSE -1 END AS __pgt_w1 FROM "
                    + bufferTable.apply(s.relid())
                    + " WHERE __pgt_action IN ('I', 'D') AND pg_visible_in_snapshot(__pgt_xid, $1::pg_snapshot)"
                    + " AND NOT pg_visible_in_snapshot(__pgt_xid, $2::pg_snapshot)";
            if (s.columns().isEmpty()) {
                return "SELECT sum(b.__pgt_w1) AS __pgt_w FROM (" + window + ") b HAVING sum(b.__pgt_w1) <> 0";
            }
            String cols = s.columns().stream().map(c -> "b." + Sql.quoteIdent(c)).collect(Collectors.joining(", "));
            // DISTINCT ON keeps one row per content with the group's net weight: works for every type
            // (array_agg(..)[1] does not for array columns).
            return "SELECT * FROM (SELECT DISTINCT ON (b.__pgt_c) " + cols
                    + ", sum(b.__pgt_w1) OVER (PARTITION BY b.__pgt_c) AS __pgt_w FROM (SELECT w.*, (ROW("
                    + s.columns().stream().map(c -> "w." + Sql.quoteIdent(c)).collect(Collectors.joining(", "))
                    + "))::text AS __pgt_c FROM (" + window + ") w) b) n WHERE n.__pgt_w <> 0";
        }
    }

    /** The sources as they are now, each row with weight 1. */
    record Current() implements RowSource {
        @Override
        public String scan(Scan s) {
            return "SELECT " + columns(s) + "1 AS __pgt_w FROM " + s.table();
        }
    }

    private static String columns(Scan s) {
        return s.columns().stream().map(c -> Sql.quoteIdent(c) + ", ").collect(Collectors.joining());
    }
}
