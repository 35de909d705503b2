package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.dvm.build.TreeBuilder;
import io.pgtrickle.core.dvm.build.Unsupported;
import io.pgtrickle.core.sql.ResolvedQuery;
import io.pgtrickle.core.sql.TextForms;
import io.pgtrickle.core.sql.ViewText;
import io.pgtrickle.core.sql.ResolvedQuery.SourceRelation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Answers the tree builder's questions about relations and functions from pg_catalog. */
final class PgResolver implements TreeBuilder.Resolver {
    private final Connection conn;
    private final Map<Long, List<String>> columnsUsed = new HashMap<>();
    private final Map<String, Boolean> aggregates = new HashMap<>();

    private final boolean limitsCorrelatedReads;

    PgResolver(Connection conn, ResolvedQuery query, boolean limitsCorrelatedReads) {
        this.conn = conn;
        this.limitsCorrelatedReads = limitsCorrelatedReads;
        for (SourceRelation s : query.sources()) {
            columnsUsed.put(s.relid(), s.columnsUsed());
        }
    }

    @Override
    public boolean limitsCorrelatedReads() {
        return limitsCorrelatedReads;
    }

    @Override
    public TreeBuilder.Relation relation(String qualifiedName) throws Unsupported {
        // to_regclass: a name that is not a relation (a CTE, a function) must not abort the transaction.
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT c.oid::bigint, c.relkind::text,
                       c.relkind = 'r' AND EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid),
                       ARRAY(SELECT DISTINCT a.attname::text FROM pg_index i
                               JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
                               JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                              WHERE i.indrelid = c.oid AND i.indisvalid AND i.indpred IS NULL
                                AND am.amname IN ('btree', 'hash'))
                  FROM pg_class c WHERE c.oid = to_regclass(?)""")) {
            ps.setString(1, qualifiedName);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new Unsupported("FROM item " + qualifiedName + " is not a table or view (a later release)");
                }
                long relid = rs.getLong(1);
                String kind = rs.getString(2);
                List<String> indexLeads = List.of((String[]) rs.getArray(4).getArray());
                if (rs.getBoolean(3)) {
                    // Reading the parent reads its children, whose changes no trigger on the parent sees.
                    throw new Unsupported("table " + qualifiedName + " has inheritance children, whose changes are not"
                            + " captured (a later release)");
                }
                String viewDef = "v".equals(kind) ? ViewText.qualifiedDefinition(conn, relid) : null;
                List<String> used = new java.util.ArrayList<>(columnsUsed.getOrDefault(relid, List.of()));
                boolean table = "r".equals(kind) || "p".equals(kind); // only tables are scanned
                List<String> key = keyOf(relid, table);
                key.stream().filter(k -> !used.contains(k)).forEach(used::add); // captured with every change anyway
                Columns columns = table ? columns(relid, used) : Columns.NONE;
                if (!columns.virtual().isEmpty()) {
                    // Transition tables hold no value for such a column (PostgreSQL 18): its changes
                    // would be captured as NULL. Evaluating the expression at capture time instead
                    // would raise errors (100 / a) on rows the query never evaluates it for.
                    throw new Unsupported("table " + qualifiedName + " column " + String.join(", ", columns.virtual())
                            + " is a VIRTUAL generated column, whose changes cannot be captured (store it: GENERATED ... STORED)");
                }
                return new TreeBuilder.Relation(relid, kind, viewDef, used, columns.indexable(), key, columns.valueEqual(),
                        indexLeads, columns.types());
            }
        } catch (SQLException e) {
            throw new Unsupported("cannot resolve relation " + qualifiedName + ": " + e.getMessage());
        }
    }

    /**
     * The key the compiled SQL reads a table by, and so relies on (recorded in
     * pgt_dependencies.primary_key): its primary key when the query reads any of its columns, else none.
     */
    List<String> keyOf(long relid, boolean table) throws SQLException {
        return table && !columnsUsed.getOrDefault(relid, List.of()).isEmpty() ? primaryKey(relid) : List.of();
    }

    /**
     * The primary key's columns when every one has a hash equality (the previous state of the table
     * is then read by key), else none. A key checked only at commit (DEFERRABLE) is none: inside a
     * transaction, where IMMEDIATE maintenance reads it, two rows may share it.
     */
    private List<String> primaryKey(long relid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT k.name, pgtrickle._type_hashable(a.atttypid)
                  FROM unnest(pgtrickle._primary_key(?::oid)) WITH ORDINALITY k(name, i)
                  JOIN pg_attribute a ON a.attrelid = ?::oid AND a.attname = k.name ORDER BY k.i""")) {
            ps.setLong(1, relid);
            ps.setLong(2, relid);
            List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getBoolean(2)) {
                        return List.of();
                    }
                    out.add(rs.getString(1));
                }
            }
            return out;
        }
    }

    /**
     * What the engine needs to know of the columns {@code used} of a table: which are NOT NULL with a
     * hash/btree equality (a row is then looked up by them through an index), and whether every one
     * prints equal values alike in a deterministic collation ({@link TextForms}; a domain by its base
     * type), so that grouping the changes by value nets them exactly as comparing their text does.
     */
    private record Columns(List<String> indexable, boolean valueEqual, java.util.Map<String, String> types,
                           List<String> virtual) {
        static final Columns NONE = new Columns(List.of(), false, java.util.Map.of(), List.of());
    }

    private Columns columns(long relid, List<String> used) throws SQLException {
        if (used.isEmpty()) {
            return Columns.NONE;
        }
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname, a.attnotnull AND pgtrickle._type_hashable(a.atttypid),
                       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod)
                            ELSE format_type(a.atttypid, a.atttypmod) END,
                       a.attcollation = 0 OR (SELECT c.collisdeterministic FROM pg_collation c WHERE c.oid = a.attcollation),
                       a.attgenerated = 'v'
                  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?) ORDER BY a.attnum""")) {
            ps.setLong(1, relid);
            ps.setArray(2, conn.createArrayOf("text", used.toArray()));
            List<String> indexable = new java.util.ArrayList<>();
            boolean valueEqual = true;
            java.util.Map<String, String> types = new java.util.HashMap<>();
            List<String> virtual = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (rs.getBoolean(5)) {
                        virtual.add(rs.getString(1));
                    }
                    if (rs.getBoolean(2)) {
                        indexable.add(rs.getString(1));
                    }
                    valueEqual &= TextForms.oneText(rs.getString(3)) && rs.getBoolean(4);
                    types.put(rs.getString(1), rs.getString(3));
                }
            }
            return new Columns(indexable, valueEqual, types, virtual);
        }
    }

    @Override
    public boolean isAggregate(String functionName) {
        String name = functionName.contains(".") ? functionName.substring(functionName.lastIndexOf('.') + 1) : functionName;
        String bare = name.startsWith("\"") ? name.substring(1, name.length() - 1) : name.toLowerCase(Locale.ROOT);
        return aggregates.computeIfAbsent(bare, n -> {
            try (PreparedStatement ps = conn.prepareStatement(
                    "SELECT EXISTS (SELECT 1 FROM pg_proc WHERE proname = ? AND prokind = 'a')")) {
                ps.setString(1, n);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getBoolean(1);
                }
            } catch (SQLException e) {
                return false;
            }
        });
    }
}
