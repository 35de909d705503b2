package io.pgtrickle.core.sql;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.sql.ResolvedQuery.OutputColumn;
import io.pgtrickle.core.sql.ResolvedQuery.SourceKind;
import io.pgtrickle.core.sql.ResolvedQuery.SourceRelation;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.util.PSQLException;

/**
 * Resolves a defining query against PostgreSQL itself.
 *
 * <p>The query becomes a temporary view inside the caller's transaction: PostgreSQL then checks
 * it completely (syntax, names, types), derives the output columns, records in {@code pg_depend}
 * exactly which tables, columns and functions it reads, and prints it back fully qualified. The
 * view is dropped before returning; on error the caller's rollback removes it.
 */
public final class QueryAnalyzer {

    /** Resolves {@code query}; the connection must be inside a transaction. */
    public ResolvedQuery analyze(Connection conn, String query) {
        return analyze(conn, query, null);
    }

    /**
     * Resolves {@code query}, looking its names up in {@code searchPath} (null: the session's).
     * The path is in force only while PostgreSQL parses the query into the probe view: the
     * engine's own statements never run under a path someone else chose.
     */
    public ResolvedQuery analyze(Connection conn, String query, String searchPath) {
        String q = QueryText.normalise(query);
        String view = "pgt_probe_" + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
        String prefix = "CREATE TEMP VIEW " + Sql.quoteIdent(view) + " AS ";
        try (Statement st = conn.createStatement()) {
            st.execute("SAVEPOINT pgt_analyze");
            String ownPath = searchPath == null ? null : Jdbc.queryOne(conn, String.class, "SHOW search_path").orElseThrow();
            try {
                if (searchPath != null) {
                    Jdbc.queryOne(conn, String.class, "SELECT pg_catalog.set_config('search_path', ?, true)", searchPath);
                }
                st.execute(prefix + q);
            } catch (SQLException e) {
                st.execute("ROLLBACK TO SAVEPOINT pgt_analyze");
                throw queryError(e, q, prefix.length());
            } finally {
                if (ownPath != null) {
                    Jdbc.queryOne(conn, String.class, "SELECT pg_catalog.set_config('search_path', ?, true)", ownPath);
                }
            }
            long viewOid = oidOf(conn, "pg_temp." + Sql.quoteIdent(view));
            List<OutputColumn> columns = columns(conn, viewOid);
            String canonical = ViewText.qualifiedDefinition(conn, viewOid);
            if (QueryText.limitWithoutOrderBy(canonical)) {
                throw new PgtException(ErrorCode.QUERY_INVALID, "LIMIT, OFFSET or FETCH without ORDER BY: which rows the "
                        + "stream table would hold depends on the order PostgreSQL happens to read them in",
                        "Add an ORDER BY that decides which rows are kept (a unique column last), or remove the LIMIT.");
            }
            List<SourceRelation> sources = sources(conn, viewOid);
            Functions functions = functions(conn, viewOid);
            st.execute("DROP VIEW pg_temp." + Sql.quoteIdent(view));
            st.execute("RELEASE SAVEPOINT pgt_analyze");
            return new ResolvedQuery(canonical, columns, sources, functions.volatileOnes(), functions.stableOnes(),
                    functions.all());
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "analysing the defining query");
        }
    }

    private static PgtException queryError(SQLException e, String query, int prefixLength) {
        String message = e.getMessage();
        String hint = null;
        int position = 0;
        if (e instanceof PSQLException pe && pe.getServerErrorMessage() != null) {
            message = pe.getServerErrorMessage().getMessage();
            hint = pe.getServerErrorMessage().getHint();
            position = pe.getServerErrorMessage().getPosition() - prefixLength;
        }
        String state = e.getSQLState() == null ? "42000" : e.getSQLState();
        ErrorCode code = switch (state) {
            case "42601" -> ErrorCode.QUERY_SYNTAX;
            case "42P01" -> ErrorCode.UNDEFINED_TABLE;
            case "42703" -> ErrorCode.UNDEFINED_COLUMN;
            case "42883" -> ErrorCode.UNDEFINED_FUNCTION;
            case "42701" -> ErrorCode.QUERY_INVALID;
            default -> ErrorCode.QUERY_INVALID;
        };
        if (hint == null) {
            hint = switch (state) {
                case "42701" -> "Give each output column a distinct name with AS.";
                case "42601" -> "Check the SQL at the position shown.";
                case "42P01" -> "Check the name; unqualified names are looked up in the search path (SHOW search_path).";
                case "42703" -> "Check the column names of the relations in FROM (\\d table in psql).";
                case "42883" -> "Check the function name and the argument types; add explicit casts if needed.";
                default -> "The defining query must be a valid SELECT; run it in psql to see PostgreSQL's full message.";
            };
        }
        String where = position > 0 ? " " + QueryText.describePosition(query, position) : "";
        return new PgtException(code, state, "invalid defining query: " + message + where, hint, e);
    }

    private static long oidOf(Connection conn, String regclass) throws SQLException {
        return Jdbc.queryLong(conn, "SELECT ?::regclass::oid::bigint", regclass);
    }

    private static List<OutputColumn> columns(Connection conn, long viewOid) throws SQLException {
        List<OutputColumn> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END,
                       pgtrickle._type_hashable(a.atttypid, true), coalesce(co.collisdeterministic, true)
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_collation co ON co.oid = a.attcollation
                  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                 WHERE a.attrelid = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setLong(1, viewOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new OutputColumn(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBoolean(4),
                            rs.getBoolean(5)));
                }
            }
        }
        if (out.isEmpty()) {
            throw new PgtException(ErrorCode.QUERY_INVALID, "the defining query returns no columns",
                    "Select at least one column.");
        }
        for (OutputColumn c : out) {
            if (c.name().equals("?column?")) {
                throw new PgtException(ErrorCode.QUERY_INVALID,
                        "an output column of the defining query has no name",
                        "Name every computed column with AS, e.g. 'count(*) AS n'.");
            }
            if (c.name().startsWith("__pgt_")) {
                throw new PgtException(ErrorCode.QUERY_INVALID,
                        "output column \"" + c.name() + "\" uses the prefix __pgt_, which is reserved for pg_trickle",
                        "Rename the column with AS.");
            }
            if (c.type().equals("unknown")) {
                throw new PgtException(ErrorCode.QUERY_INVALID,
                        "output column \"" + c.name() + "\" has no type (an untyped literal)",
                        "Cast it, e.g. 'abc'::text AS " + c.name() + ".");
            }
        }
        return out;
    }

    /**
     * Relations the view reads, following views down to what they read. Column dependencies come
     * from pg_depend too: PostgreSQL records one entry per referenced column.
     */
    private static List<SourceRelation> sources(Connection conn, long viewOid) throws SQLException {
        List<SourceRelation> out = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                WITH RECURSIVE reads(relid, attnum, direct) AS (
                    SELECT d.refobjid, d.refobjsubid, true
                      FROM pg_rewrite r
                      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                      AND d.refclassid = 'pg_class'::regclass
                     WHERE r.ev_class = ? AND d.refobjid <> r.ev_class
                    UNION
                    SELECT d.refobjid, d.refobjsubid, false
                      FROM reads
                      JOIN pg_class v ON v.oid = reads.relid AND v.relkind = 'v'
                      JOIN pg_rewrite r ON r.ev_class = v.oid
                      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                      AND d.refclassid = 'pg_class'::regclass
                     WHERE d.refobjid <> v.oid
                )
                SELECT c.oid, n.nspname, c.relname, c.relkind, c.relpersistence,
                       EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_relid = c.oid) AS is_st,
                       array_remove(array_agg(DISTINCT a.attname::text ORDER BY a.attname::text), NULL) AS cols,
                       bool_or(reads.direct) AS direct
                  FROM reads
                  JOIN pg_class c ON c.oid = reads.relid
                  JOIN pg_namespace n ON n.oid = c.relnamespace
                  LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = reads.attnum AND reads.attnum > 0
                 WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
                 GROUP BY c.oid, n.nspname, c.relname, c.relkind, c.relpersistence
                 ORDER BY n.nspname, c.relname""")) {
            ps.setLong(1, viewOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    String schema = rs.getString(2);
                    String name = rs.getString(3);
                    String relkind = rs.getString(4);
                    if ("t".equals(rs.getString(5))) {
                        throw new PgtException(ErrorCode.QUERY_INVALID,
                                "the defining query reads temporary table " + name,
                                "A stream table outlives the session; read permanent tables only.");
                    }
                    if (schema.equals("pgtrickle") || schema.equals("pgtrickle_changes")) {
                        throw new PgtException(ErrorCode.QUERY_INVALID,
                                "the defining query reads pg_trickle's own catalog (" + schema + "." + name + ")",
                                "Use the status and history commands instead.");
                    }
                    SourceKind kind = rs.getBoolean(6) ? SourceKind.STREAM_TABLE : switch (relkind) {
                        case "r" -> SourceKind.TABLE;
                        case "p" -> SourceKind.PARTITIONED_TABLE;
                        case "v" -> SourceKind.VIEW;
                        case "m" -> SourceKind.MATVIEW;
                        case "f" -> SourceKind.FOREIGN_TABLE;
                        default -> throw new IllegalStateException("unexpected relkind " + relkind);
                    };
                    Array cols = rs.getArray(7);
                    List<String> columns = cols == null ? List.of() : Arrays.asList((String[]) cols.getArray());
                    out.add(new SourceRelation(rs.getLong(1), schema, name, kind, List.copyOf(columns), !rs.getBoolean(8)));
                }
            }
        }
        return out;
    }

    /** Functions a query calls, by volatility; operators count through their implementing function. */
    private record Functions(List<String> all, List<String> volatileOnes, List<String> stableOnes) {
    }

    private static Functions functions(Connection conn, long viewOid) throws SQLException {
        List<String> all = new ArrayList<>();
        List<String> volatileOnes = new ArrayList<>();
        List<String> stableOnes = new ArrayList<>();
        try (PreparedStatement ps = conn.prepareStatement("""
                WITH RECURSIVE rules(rule_oid) AS (
                    SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = ?
                    UNION
                    SELECT r2.oid
                      FROM rules
                      JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rules.rule_oid
                                      AND d.refclassid = 'pg_class'::regclass
                      JOIN pg_class v ON v.oid = d.refobjid AND v.relkind = 'v'
                      JOIN pg_rewrite r2 ON r2.ev_class = v.oid
                ), procs AS (
                    -- pg_depend omits pinned (built-in) functions, so read the function ids out of
                    -- the stored query trees themselves: every call, operator and aggregate is there.
                    SELECT DISTINCT m[1]::oid AS proc_oid
                      FROM rules JOIN pg_rewrite r ON r.oid = rules.rule_oid,
                           regexp_matches(r.ev_action::text, ':(?:funcid|opfuncid|aggfnoid|winfnoid) (\\d+)', 'g') AS m
                )
                SELECT DISTINCT n.nspname || '.' || p.proname, p.provolatile::text
                  FROM procs JOIN pg_proc p ON p.oid = procs.proc_oid
                  JOIN pg_namespace n ON n.oid = p.pronamespace
                 ORDER BY 1""")) {
            ps.setLong(1, viewOid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(rs.getString(1));
                    if ("v".equals(rs.getString(2))) {
                        volatileOnes.add(rs.getString(1));
                    } else if ("s".equals(rs.getString(2))) {
                        stableOnes.add(rs.getString(1));
                    }
                }
            }
        }
        return new Functions(List.copyOf(all), List.copyOf(volatileOnes), List.copyOf(stableOnes));
    }
}
