package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.dvm.build.TreeBuilder;
import io.pgtrickle.core.dvm.build.Unsupported;
import io.pgtrickle.core.sql.ResolvedQuery;
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

    PgResolver(Connection conn, ResolvedQuery query) {
        this.conn = conn;
        for (SourceRelation s : query.sources()) {
            columnsUsed.put(s.relid(), s.columnsUsed());
        }
    }

    @Override
    public TreeBuilder.Relation relation(String qualifiedName) throws Unsupported {
        // to_regclass: a name that is not a relation (a CTE, a function) must not abort the transaction.
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT c.oid::bigint, c.relkind::text FROM pg_class c WHERE c.oid = to_regclass(?)""")) {
            ps.setString(1, qualifiedName);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new Unsupported("FROM item " + qualifiedName + " is not a table or view (a later release)");
                }
                long relid = rs.getLong(1);
                String kind = rs.getString(2);
                String viewDef = "v".equals(kind) ? ViewText.qualifiedDefinition(conn, relid) : null;
                List<String> used = new java.util.ArrayList<>(columnsUsed.getOrDefault(relid, List.of()));
                List<String> key = ("r".equals(kind) || "p".equals(kind)) && !used.isEmpty() ? primaryKey(relid) : List.of();
                key.stream().filter(k -> !used.contains(k)).forEach(used::add); // captured with every change anyway
                return new TreeBuilder.Relation(relid, kind, viewDef, used, indexable(relid, used), key, valueEqual(relid, used));
            }
        } catch (SQLException e) {
            throw new Unsupported("cannot resolve relation " + qualifiedName + ": " + e.getMessage());
        }
    }

    /**
     * The primary key's columns when every one has a hash equality (the previous state of the table
     * is then read by key), else none.
     */
    private List<String> primaryKey(long relid) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname, pgtrickle._type_hashable(a.atttypid) FROM pg_index i
                  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                 WHERE i.indrelid = ? AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)""")) {
            ps.setLong(1, relid);
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
     * Whether every column in {@code used} has a type (or a domain over one) whose equal values have
     * the same text, and a deterministic collation: grouping the changes by value then nets them
     * exactly as comparing their text does. Not numeric (1.0 = 1.00), floats (0 = -0), json and the
     * like, whose changes are netted by text.
     */
    private boolean valueEqual(long relid, List<String> used) throws SQLException {
        if (used.isEmpty()) {
            return false;
        }
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT coalesce(bool_and(b.typnamespace = 'pg_catalog'::regnamespace
                           AND b.typname IN ('int2', 'int4', 'int8', 'bool', 'date', 'timestamp', 'timestamptz', 'text',
                                             'varchar', 'uuid', 'bytea', 'oid', 'name')
                           AND (a.attcollation = 0 OR (SELECT c.collisdeterministic FROM pg_collation c
                                                        WHERE c.oid = a.attcollation))), false)
                  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                  JOIN pg_type b ON b.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY (?)""")) {
            ps.setLong(1, relid);
            ps.setArray(2, conn.createArrayOf("text", used.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** The columns among {@code used} that are NOT NULL and have a hash/btree equality. */
    private List<String> indexable(long relid, List<String> used) throws SQLException {
        if (used.isEmpty()) {
            return List.of();
        }
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname FROM pg_attribute a
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped AND a.attnotnull
                   AND a.attname = ANY (?) AND pgtrickle._type_hashable(a.atttypid) ORDER BY a.attnum""")) {
            ps.setLong(1, relid);
            ps.setArray(2, conn.createArrayOf("text", used.toArray()));
            List<String> out = new java.util.ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
            return out;
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
