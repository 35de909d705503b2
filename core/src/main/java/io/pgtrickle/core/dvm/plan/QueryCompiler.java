package io.pgtrickle.core.dvm.plan;

import io.pgtrickle.core.dvm.build.TreeBuilder;
import io.pgtrickle.core.dvm.build.Unsupported;
import io.pgtrickle.core.dvm.op.AffectedGroups;
import io.pgtrickle.core.dvm.op.Aggregate;
import io.pgtrickle.core.dvm.op.Distinct;
import io.pgtrickle.core.dvm.op.LinearOperator;
import io.pgtrickle.core.dvm.op.Operator;
import io.pgtrickle.core.dvm.op.Project;
import io.pgtrickle.core.dvm.op.RowSource;
import io.pgtrickle.core.dvm.op.Template;
import io.pgtrickle.core.dvm.op.PartitionRecompute;
import io.pgtrickle.core.dvm.op.RecursiveCte;
import io.pgtrickle.core.dvm.op.TopK;
import io.pgtrickle.core.dvm.op.WholeRecompute;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.ResolvedQuery;
import io.pgtrickle.core.sql.ResolvedQuery.OutputColumn;
import io.pgtrickle.core.sql.Sql;
import io.pgtrickle.core.sql.TextForms;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongFunction;
import java.util.stream.Collectors;

/**
 * Compiles a resolved defining query into the SQL its refreshes run: the storage layout, the FULL
 * query and, when every operator is maintainable, the differential changes query.
 */
public final class QueryCompiler {
    private final TreeBuilder.Resolver resolver;
    private final LongFunction<String> bufferTable;
    private final boolean sourcesBound;

    /** @param bufferTable the change buffer of a source, by relid (sources get capture before compiling) */
    public QueryCompiler(TreeBuilder.Resolver resolver, LongFunction<String> bufferTable) {
        this(resolver, bufferTable, false);
    }

    /**
     * @param sourcesBound whether the differential SQL is run with {@code $3}, the sources with
     *                     changes in the window ({@link RowSource.Changes}): the SQL of a refresh
     *                     and of IMMEDIATE maintenance is
     */
    public QueryCompiler(TreeBuilder.Resolver resolver, LongFunction<String> bufferTable, boolean sourcesBound) {
        this.resolver = resolver;
        this.bufferTable = bufferTable;
        this.sourcesBound = sourcesBound;
    }

    /** A fresh change window for one differential statement. */
    private RowSource.Changes changes() {
        return new RowSource.Changes(bufferTable, sourcesBound);
    }

    public CompiledQuery compile(Connection conn, QualifiedName storage, ResolvedQuery query) throws SQLException {
        try {
            return compileChecked(conn, storage, query);
        } catch (RuntimeException e) {
            // A bug of ours must not stop a valid query from being created: it is maintained by FULL.
            org.slf4j.LoggerFactory.getLogger(QueryCompiler.class).warn("compiling {} failed", storage.display(), e);
            return multiset(storage, query, null, "internal: the differential compiler failed (" + e + ")");
        }
    }

    private CompiledQuery compileChecked(Connection conn, QualifiedName storage, ResolvedQuery query) throws SQLException {
        List<String> names = query.columns().stream().map(OutputColumn::name).toList();
        Operator root;
        try {
            root = new TreeBuilder(resolver).build(query.canonicalQuery(), names,
                    query.columns().stream().map(OutputColumn::type).toList()).root();
        } catch (Unsupported e) {
            return multiset(storage, query, null, e.getMessage());
        }
        String reason = query.volatileFunctions().isEmpty() ? null
                : "volatile functions (" + String.join(", ", query.volatileFunctions()) + ")";
        if (reason != null && query.canonicalQuery().strip().regionMatches(true, 0, "WITH", 0, 4)) {
            // A CTE is evaluated once; inlined, a volatile one would be evaluated per reference.
            return multiset(storage, query, null, reason);
        }
        String unrebuildable = GroupedItems.unrebuildable(root, (from, expressions) -> probeTypes(conn, from, expressions));
        if (unrebuildable == null) {
            unrebuildable = GroupedItems.unrepeatable(root, (from, expressions) -> probeTypes(conn, from, expressions));
        }
        if (unrebuildable == null && !query.stableFunctions().isEmpty() && GroupedItems.recomputes(root)) {
            // the previous rows are evaluated now, with today's now(): they would not be the rows emitted then
            unrebuildable = "stable functions (" + String.join(", ", query.stableFunctions())
                    + ") in a query with a subquery recomputed before and after";
        }
        if (unrebuildable != null) {
            return multiset(storage, query, null, unrebuildable);
        }
        if (root instanceof LinearOperator linear) {
            return multiset(storage, query, linear, reason);
        }
        if (root instanceof Distinct distinct) {
            return distinct(storage, query, distinct, reason);
        }
        if (root instanceof WholeRecompute whole) {
            // re-run when a source changed: a source whose changes are not captured would never re-run it
            var blind = query.sources().stream()
                    .filter(x -> x.kind() == ResolvedQuery.SourceKind.MATVIEW || x.kind() == ResolvedQuery.SourceKind.FOREIGN_TABLE)
                    .findFirst();
            if (blind.isPresent()) {
                return multiset(storage, query, null, (root instanceof TopK ? "a top-K" : "a recursive") + " query over "
                        + blind.get().qualifiedName().display() + ", whose changes are not captured");
            }
            List<Long> relids = query.sources().stream().filter(x -> x.kind().capturable()).map(x -> x.relid()).toList();
            root = whole.withSources(relids);
        }
        if (root instanceof PartitionRecompute recompute) {
            return partitionRecompute(conn, storage, query, recompute, reason);
        }
        Aggregate aggregate = (Aggregate) root;
        List<AggregateCall> calls = aggregate.calls().stream().map(AggregateCall::classify).toList();
        List<String> probe = new ArrayList<>(aggregate.keys());
        calls.forEach(c -> probe.add(c.argument() == null ? "NULL::int" : c.argument()));
        List<TypeInfo> types;
        try {
            types = probeTypes(conn, aggregate.fromSql(), probe);
        } catch (SQLException e) {
            return multiset(storage, query, null, "cannot type the GROUP BY expressions: " + e.getMessage());
        }
        List<RowHash.Form> keyForms = types.subList(0, aggregate.keys().size()).stream()
                .map(t -> RowHash.form(t.type(), t.hashable(), false)).toList();
        List<String> argTypes = types.subList(aggregate.keys().size(), types.size()).stream().map(TypeInfo::type).toList();
        boolean algebraic = aggregate.written().having() == null && aggregate.outputs() != null
                && calls.stream().allMatch(AggregateCall::algebraic);
        for (int i = 0; i < calls.size(); i++) {
            AggregateCall.Kind k = calls.get(i).kind();
            if ((k == AggregateCall.Kind.SUM || k == AggregateCall.Kind.AVG) && !EXACT_NUMERIC.contains(argTypes.get(i).replaceFirst("\\(.*", ""))) {
                algebraic = false; // floating-point sums drift when maintained incrementally
            }
        }
        if (algebraic && reason == null) {
            boolean valueEqual = types.stream().allMatch(t -> TextForms.oneText(t.type()) && t.deterministic());
            return algebraicAggregate(storage, query, aggregate,
                    new AlgebraicAggregateSql(aggregate, calls, argTypes, keyForms, valueEqual), keyForms);
        }
        return aggregate(storage, query, aggregate, keyForms, reason);
    }

    private CompiledQuery multiset(QualifiedName storage, ResolvedQuery q, LinearOperator root, String reason) {
        List<StorageColumn> columns = new ArrayList<>(visible(q));
        columns.add(new StorageColumn("__pgt_hash", "bigint", null, false));
        String hash = RowHash.of(qualified("q", q), textExactHashable(q));
        String cols = columnList("h", q);
        List<Integer> key = keyColumns(q, root == null ? List.of() : KeyedRows.key(root));
        // Rows unique by a key are identified by it, without sorting all of them by hash for a
        // row_number (external sort of 100,000 rows: a fifth of the filter scenario's FULL refresh).
        String full = "SELECT " + (key.isEmpty() ? RowHash.ordinal("h.__pgt_h", "row_number() OVER (PARTITION BY h.__pgt_h) - 1")
                : keyHash("h", q, key))
                + " AS __pgt_row_id, "
                + cols + ", h.__pgt_h AS __pgt_hash FROM (SELECT " + hash + " AS __pgt_h, q.* FROM ("
                + q.canonicalQuery() + ") q) h";
        if (root == null || reason != null) {
            return new CompiledQuery(Shape.MULTISET, columns, full, null, reason, root, null);
        }
        RowSource.Changes window = changes();
        String rows = "SELECT " + hash + " AS __pgt_h, q.* FROM (" + root.sql(window) + ") q";
        String netted = "WITH d AS (" + rows + "), c AS (" + netPerHash(q) + ")";
        if (!key.isEmpty()) {
            // A content's net change is -1 (it was stored) or +1 (it was not), and a key has at most
            // one of each: its old and its new values. With a +1 the row is written (updated in
            // place when its key was stored; not at all when its values are the old ones), with a
            // -1 alone it is deleted. A delta that already holds each row at most once per sign
            // skips the netting per content (a sort by content hash and a window, then a sort by
            // key): a key whose two rows have one content hash is dropped by a window over the
            // key's partition, in the order DISTINCT ON sorts by anyway.
            boolean byRow = root instanceof Project p && p.deltaByRow();
            String from = byRow ? changedKeys(rows, q, key) : "(SELECT " + keyHash("c", q, key) + " AS __pgt_row_id, c.* FROM c)";
            String changes = (byRow ? "" : netted + " ")
                    + "SELECT k.__pgt_row_id, CASE WHEN k.__pgt_net > 0 THEN 'I' ELSE 'D' END AS __pgt_action, "
                    + columnList("k", q) + ", k.__pgt_h AS __pgt_hash FROM (SELECT DISTINCT ON (i.__pgt_row_id) i.* FROM "
                    + from + " i ORDER BY i.__pgt_row_id, i.__pgt_net DESC) k";
            return new CompiledQuery(Shape.MULTISET, columns, full, window.with(changes), null, root, null);
        }
        String changes = netted + ","
                // A lateral count, not a scalar subquery: the expressions below name __pgt_old four times, and
                // PostgreSQL would run an inlined scalar subquery once per mention.
                + " o AS (SELECT c.*, x.__pgt_old FROM c CROSS JOIN LATERAL (SELECT count(*) AS __pgt_old FROM "
                + storage.quoted() + " s WHERE s.__pgt_hash = c.__pgt_h) x)"
                + " SELECT " + RowHash.ordinal("o.__pgt_h", "__pgt_k") + " AS __pgt_row_id,"
                + " CASE WHEN o.__pgt_net > 0 THEN 'I' ELSE 'D' END AS __pgt_action, " + columnList("o", q)
                + ", o.__pgt_h AS __pgt_hash FROM o, pgtrickle._ordinals(LEAST(o.__pgt_old, o.__pgt_old + o.__pgt_net),"
                + " GREATEST(o.__pgt_old, o.__pgt_old + o.__pgt_net) - 1) AS __pgt_k";
        return new CompiledQuery(Shape.MULTISET, columns, full, window.with(changes), null, root, null);
    }

    private CompiledQuery distinct(QualifiedName storage, ResolvedQuery q, Distinct root, String reason) {
        List<StorageColumn> columns = new ArrayList<>(visible(q));
        columns.add(new StorageColumn("__pgt_count", "bigint", null, false));
        String hash = RowHash.of(qualified("q", q), hashable(q));
        String groupCols = columnList("q", q);
        String full = "SELECT " + hash + " AS __pgt_row_id, " + groupCols + ", sum(q.__pgt_w)::bigint AS __pgt_count FROM ("
                + root.input().sql(new RowSource.Current()) + ") q GROUP BY " + groupCols;
        if (reason != null) {
            return new CompiledQuery(Shape.DISTINCT, columns, full, null, reason, root, null);
        }
        RowSource.Changes window = changes();
        String net = "WITH d AS (SELECT " + hash + " AS __pgt_h, q.* FROM ("
                + root.input().sql(window) + ") q),"
                + " c AS (" + netPerHash(q) + ")";
        String changes = net + ","
                + " o AS (SELECT c.*, coalesce(s.__pgt_count, 0) AS __pgt_old FROM c LEFT JOIN " + storage.quoted()
                + " s ON s.__pgt_row_id = c.__pgt_h)"
                + " SELECT o.__pgt_h AS __pgt_row_id, CASE WHEN o.__pgt_old + o.__pgt_net > 0 THEN 'I' ELSE 'D' END"
                + " AS __pgt_action, " + columnList("o", q) + ", (o.__pgt_old + o.__pgt_net)::bigint AS __pgt_count FROM o";
        return new CompiledQuery(Shape.DISTINCT, columns, full, window.with(changes), null, root, null,
                distinctApply(storage, q, window.with(net + " SELECT * FROM c")));
    }

    /**
     * The differential apply statement of a DISTINCT for PostgreSQL 18 and later: one MERGE adds the
     * net change of each distinct row to its stored count (deleting it when the count drops to 0,
     * inserting a new one), where the general form ({@link #distinct} applied by {@link ApplySql})
     * reads each changed row's stored count in a join first and then merges: 11.9–13.0 against
     * 10.1–11.7 ms for 1,500 change rows (the statement alone, interleaved). The visible values are
     * set from the change, as the general form sets them.
     */
    private static String distinctApply(QualifiedName storage, ResolvedQuery q, String netChanges) {
        String names = q.columns().stream().map(c -> Sql.quoteIdent(c.name())).collect(Collectors.joining(", "));
        String sets = q.columns().stream().map(c -> Sql.quoteIdent(c.name()) + " = c." + Sql.quoteIdent(c.name()) + ", ")
                .collect(Collectors.joining());
        return "WITH c AS MATERIALIZED (" + netChanges + "),"
                + " m AS (MERGE INTO " + storage.quoted() + " t USING c ON t.__pgt_row_id = c.__pgt_h"
                + " WHEN MATCHED AND t.__pgt_count + c.__pgt_net <= 0 THEN DELETE"
                + " WHEN MATCHED THEN UPDATE SET " + sets + "__pgt_count = t.__pgt_count + c.__pgt_net"
                + " WHEN NOT MATCHED AND c.__pgt_net > 0 THEN INSERT (" + names + ", __pgt_count, __pgt_row_id)"
                + " VALUES (" + columnList("c", q) + ", c.__pgt_net, c.__pgt_h)" + ApplySql.countedReturning(visible(q));
    }

    private CompiledQuery aggregate(QualifiedName storage, ResolvedQuery q, Aggregate a, List<RowHash.Form> keyForms,
                                    String reason) {
        List<StorageColumn> columns = visible(q);
        String where = a.whereSql() == null ? "" : " WHERE " + a.whereSql();
        String groupBy = a.scalar() ? "" : " GROUP BY " + String.join(", ", a.keys());
        String full = "SELECT " + RowHash.of(a.keys(), keyForms) + " AS __pgt_row_id, "
                + a.written().items().stream().map(i -> i.expression() + " AS " + Sql.quoteIdent(i.name()))
                        .collect(Collectors.joining(", "))
                + " FROM " + a.fromSql() + where + groupBy
                + (a.written().having() == null ? "" : " HAVING " + a.written().havingSql());
        if (reason != null) {
            return new CompiledQuery(Shape.AGGREGATE, columns, full, null, reason, a, null);
        }
        // The affected groups recomputed from the current sources, as the query writes them: a
        // group missing from the result (emptied, or failing HAVING) is deleted.
        List<String> g = a.groupNames();
        RowSource.Changes changesRows = changes();
        String list = (a.scalar() ? "" : a.keysAliased() + ", ") + a.written().list().written() + ", true AS __pgt_present";
        String fresh = a.scalar()
                ? "SELECT " + list + " FROM " + a.fromSql() + where
                        + (a.written().having() == null ? "" : " HAVING " + a.written().havingSql())
                : AffectedGroups.select(list, a.fromSql(), a.whereSql(), a.keys(), g, "__pgt_aff", null, a.written().havingSql());
        List<String> xKeys = g.stream().map(k -> "__pgt_x." + k).toList();
        String f = "__pgt_f";
        String on = a.scalar() ? "true" : RowHash.sameKeys(g.stream().map(k -> f + "." + k).toList(), xKeys, keyForms);
        String changes = "WITH __pgt_aff AS (" + a.affected(changesRows) + "), __pgt_fresh AS (" + fresh + ")"
                + " SELECT " + RowHash.of(xKeys, keyForms) + " AS __pgt_row_id,"
                + " CASE WHEN " + f + ".__pgt_present THEN 'I' ELSE 'D' END AS __pgt_action, "
                + a.columns().stream().map(n -> f + "." + Sql.quoteIdent(n)).collect(Collectors.joining(", "))
                + " FROM __pgt_aff __pgt_x LEFT JOIN __pgt_fresh AS " + f + " ON " + on;
        return new CompiledQuery(Shape.AGGREGATE, columns, full, changesRows.with(changes), null, a, null);
    }

    /**
     * Window functions, DISTINCT ON and set operations: the rows of the partitions the changes touch
     * are recomputed and replace the stored rows of those partitions (see {@link PartitionRecompute}). Each partitioning is stored as a hidden
     * hash of its keys ({@code __pgt_part<j>}), by which a refresh finds the stored rows of an
     * affected partition; a row's identity is its content, its partitions and its ordinal among
     * equal rows, the same in FULL.
     */
    private CompiledQuery partitionRecompute(Connection conn, QualifiedName storage, ResolvedQuery q, PartitionRecompute w,
                                             String reason) throws SQLException {
        if (w instanceof RecursiveCte rc && rc.incremental() != null) {
            var text = q.columns().stream().filter(c -> !TextForms.oneText(c.type()) || c.collation() != null).findFirst();
            String why = text.map(c -> "column " + c.name() + " of type " + c.type() + (c.collation() == null ? "" : " collate " + c.collation())
                    + ", whose equal values UNION keeps in either text form").orElse(null);
            if (why == null && !q.stableFunctions().isEmpty()) {
                // the previous state is evaluated now: a derivation that a stable function let go of
                // since the last refresh would never be over-deleted
                why = "stable functions (" + String.join(", ", q.stableFunctions()) + ") in a recursion";
            }
            if (why != null) {
                return partitionRecompute(conn, storage, q, new RecursiveCte(rc.query(), rc.columns(), rc.sources(), null, why), reason);
            }
        }
        List<String> keys = w.partitionings().stream().flatMap(List::stream).toList();
        List<TypeInfo> types;
        try {
            types = probeTypes(conn, w.keyScope(), keys);
        } catch (SQLException e) {
            return multiset(storage, q, null, "cannot type the PARTITION BY expressions: " + e.getMessage());
        }
        // Stored rows are found by a hash of their partition keys, and a refresh deletes the stored
        // rows of a hash it recomputed: equal keys must hash alike, and unequal keys as rarely as
        // two row identities (64 bits).
        List<RowHash.Form> keyForms = new ArrayList<>();
        for (TypeInfo type : types) {
            RowHash.Form form = RowHash.partitionForm(type.type(), type.hashable());
            if (form == null && reason == null) {
                reason = "a partition key (PARTITION BY, DISTINCT ON, a set operation's column) of type " + type.type()
                        + ", whose equal values may print differently and which has no exact hash";
            }
            keyForms.add(form == null ? RowHash.Form.TEXT : form);
        }
        List<List<RowHash.Form>> forms = new ArrayList<>();
        int at = 0;
        for (List<String> p : w.partitionings()) {
            forms.add(keyForms.subList(at, at + p.size()));
            at += p.size();
        }
        List<StorageColumn> columns = new ArrayList<>(visible(q));
        List<String> parts = new ArrayList<>();
        List<String> partHashes = new ArrayList<>();
        for (int j = 0; j < w.partitionings().size(); j++) {
            parts.add("__pgt_part" + j);
            partHashes.add(RowHash.of(w.partitionings().get(j), forms.get(j)) + " AS __pgt_part" + j);
            columns.add(new StorageColumn("__pgt_part" + j, "bigint", null, false));
        }
        List<String> hashed = new ArrayList<>(qualified("q", q));
        List<RowHash.Form> hashForms = new ArrayList<>(textExactHashable(q));
        parts.forEach(x -> {
            hashed.add("q." + x);
            hashForms.add(RowHash.Form.VALUE);
        });
        String extra = String.join(", ", partHashes);
        String partList = parts.stream().map(x -> ", h." + x).collect(Collectors.joining());
        java.util.function.Function<String, String> identified = inner -> "SELECT "
                + RowHash.ordinal("h.__pgt_h", "row_number() OVER (PARTITION BY h.__pgt_h) - 1") + " AS __pgt_row_id, "
                + columnList("h", q) + partList + " FROM (SELECT " + RowHash.of(hashed, hashForms) + " AS __pgt_h, q.* FROM ("
                + inner + ") q) h";
        String full = identified.apply(w.query(extra, null));
        if (reason != null) {
            return new CompiledQuery(Shape.PARTITIONED, columns, full, null, reason, w, null);
        }
        RowSource.Changes changes = changes();
        if (w instanceof RecursiveCte rc && rc.incremental() != null && reason == null) {
            {
                List<String> outTypes = q.columns().stream().map(OutputColumn::type).toList();
                String part = RowHash.of(w.partitionings().get(0), forms.get(0));
                java.util.function.Function<List<String>, String> rowId = items -> {
                    List<String> hashedItems = new ArrayList<>(items);
                    hashedItems.add(part);
                    return RowHash.ordinal(RowHash.of(hashedItems, hashForms), "0");
                };
                String sql = new RecursiveSql(rc.incremental(), storage, visible(q), outTypes, rowId, part, changes).changes();
                return new CompiledQuery(Shape.PARTITIONED, columns, full, changes.with(sql), null, w, null);
            }
        }
        String affected;
        String fresh;
        List<String> storedAffected = new ArrayList<>();
        if (w.pushedDown()) {
            List<String> k = w.partitionings().get(0);
            List<String> g = w.keyNames();
            affected = "SELECT DISTINCT " + g.stream().map(x -> "__pgt_q." + x).collect(Collectors.joining(", ")) + " FROM ("
                    + w.changedRows(RowHash.aliased(k, g), changes) + ") __pgt_q";
            fresh = AffectedGroups.partitions(cond -> w.query(extra, cond), k, g, "__pgt_aff");
            storedAffected.add("s.__pgt_part0 IN (SELECT " + RowHash.of(g.stream().map(x -> "__pgt_a." + x).toList(), forms.get(0))
                    + " FROM __pgt_aff __pgt_a)");
        } else {
            affected = "SELECT DISTINCT " + parts.stream().map(x -> "__pgt_q." + x).collect(Collectors.joining(", ")) + " FROM ("
                    + w.changedRows(extra, changes) + ") __pgt_q";
            List<String> anyAffected = new ArrayList<>();
            for (String x : parts) {
                anyAffected.add("__pgt_r." + x + " IN (SELECT " + x + " FROM __pgt_aff)");
                storedAffected.add("s." + x + " IN (SELECT " + x + " FROM __pgt_aff)");
            }
            fresh = "SELECT * FROM (" + w.query(extra, null) + ") __pgt_r WHERE " + String.join(" OR ", anyAffected);
        }
        String nulls = columns.stream().map(c -> "NULL::" + c.type()).collect(Collectors.joining(", "));
        String changesSql = "WITH __pgt_aff AS MATERIALIZED (" + affected + "), __pgt_fresh AS MATERIALIZED ("
                + identified.apply(fresh) + ")"
                + " SELECT f.__pgt_row_id, 'I'::text AS __pgt_action, " + columnList("f", q)
                + parts.stream().map(x -> ", f." + x).collect(Collectors.joining()) + " FROM __pgt_fresh f"
                + " UNION ALL SELECT s.__pgt_row_id, 'D', " + nulls + " FROM " + storage.quoted() + " s WHERE ("
                + String.join(" OR ", storedAffected) + ") AND NOT EXISTS (SELECT 1 FROM __pgt_fresh f"
                + " WHERE f.__pgt_row_id = s.__pgt_row_id)";
        return new CompiledQuery(Shape.PARTITIONED, columns, full, changes.with(changesSql), null, w, null);
    }

    private static final java.util.Set<String> EXACT_NUMERIC = java.util.Set.of("smallint", "integer", "bigint", "numeric");

    /**
     * Type, hashability and collation of an expression, as PostgreSQL derives them.
     *
     * @param type          format_type's text
     * @param hashable      hashed by value ({@code pgtrickle._type_hashable(type, true)})
     * @param deterministic the expression's collation is deterministic (or it has none)
     */
    record TypeInfo(String type, boolean hashable, boolean deterministic) {
    }

    private CompiledQuery algebraicAggregate(QualifiedName storage, ResolvedQuery q, Aggregate a, AlgebraicAggregateSql sql,
                                             List<RowHash.Form> keyForms) {
        List<StorageColumn> columns = visible(q);
        List<AlgebraicAggregateSql.Aux> aux = sql.auxiliaries();
        aux.forEach(x -> columns.add(new StorageColumn(x.name(), x.type(), null, false)));
        String where = a.whereSql() == null ? "" : " WHERE " + a.whereSql();
        String groupBy = a.scalar() ? "" : " GROUP BY " + String.join(", ", a.keys());
        String full = "SELECT " + RowHash.of(a.keys(), keyForms) + " AS __pgt_row_id, "
                + a.written().items().stream().map(i -> i.expression() + " AS " + Sql.quoteIdent(i.name()))
                        .collect(Collectors.joining(", "))
                + ", " + aux.stream().map(x -> x.fullExpression() + " AS " + x.name()).collect(Collectors.joining(", "))
                + " FROM " + a.fromSql() + where + groupBy;
        AlgebraicAggregateSql.Statements statements = sql.statements(storage, visible(q), changes());
        return new CompiledQuery(Shape.AGGREGATE, columns, full, statements.changes(), null, a,
                "algebraic: COUNT/SUM/AVG from hidden columns in O(change); MIN/MAX rescan only groups whose extreme was removed"
                        + (sql.sumsUnnetted() ? "; changed rows summed as captured, without netting" : ""), statements.directApply());
    }

    List<TypeInfo> probeTypes(Connection conn, String fromSql, List<String> expressions) throws SQLException {
        if (expressions.isEmpty()) {
            return List.of();
        }
        String view = "pgt_types_" + Long.toHexString(System.nanoTime());
        List<TypeInfo> out = new ArrayList<>();
        try (Statement st = conn.createStatement()) {
            st.execute("SAVEPOINT pgt_keys");
            try {
                List<String> g = new ArrayList<>();
                for (int i = 0; i < expressions.size(); i++) {
                    g.add("__pgt_e" + i);
                }
                st.execute("CREATE TEMP VIEW " + view + " AS SELECT " + RowHash.aliased(expressions, g) + " FROM " + fromSql);
                try (PreparedStatement ps = conn.prepareStatement("""
                        SELECT format_type(a.atttypid, a.atttypmod), pgtrickle._type_hashable(a.atttypid, true),
                               a.attcollation = 0 OR (SELECT c.collisdeterministic FROM pg_collation c WHERE c.oid = a.attcollation)
                          FROM pg_attribute a
                         WHERE a.attrelid = ?::regclass AND a.attnum > 0 ORDER BY a.attnum""")) {
                    ps.setString(1, "pg_temp." + view);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            out.add(new TypeInfo(rs.getString(1), rs.getBoolean(2), rs.getBoolean(3)));
                        }
                    }
                }
                st.execute("DROP VIEW pg_temp." + view);
                st.execute("RELEASE SAVEPOINT pgt_keys");
            } catch (SQLException e) {
                st.execute("ROLLBACK TO SAVEPOINT pgt_keys");
                throw e;
            }
        }
        return out;
    }

    private static List<StorageColumn> visible(ResolvedQuery q) {
        return q.columns().stream().map(c -> new StorageColumn(c.name(), c.type(), c.collation(), true))
                .collect(Collectors.toCollection(ArrayList::new));
    }

    private static List<String> qualified(String alias, ResolvedQuery q) {
        return q.columns().stream().map(c -> alias + "." + Sql.quoteIdent(c.name())).toList();
    }

    /** The positions in {@code q}'s columns of the key columns named {@code names} (the root's own output columns). */
    private static List<Integer> keyColumns(ResolvedQuery q, List<String> names) {
        List<String> all = q.columns().stream().map(OutputColumn::name).toList();
        if (!all.containsAll(names)) {
            throw new IllegalStateException("key columns " + names + " are not among the output columns " + all);
        }
        return names.stream().map(all::indexOf).toList();
    }

    /**
     * The identity of a row unique by a key: the hash of its key columns, each in the form its
     * multiset content hash uses ({@link #textExactHashable}), which tells apart at least what the
     * key's equality does, so two keys stored at once share it no more often than two row identities.
     */
    private static String keyHash(String alias, ResolvedQuery q, List<Integer> key) {
        List<String> all = qualified(alias, q);
        List<RowHash.Form> forms = textExactHashable(q);
        return RowHash.of(key.stream().map(all::get).toList(), key.stream().map(forms::get).toList());
    }

    /**
     * For a multiset, a row's identity must tell apart what its text tells apart: numeric 2 and 2.0
     * are equal (and hash alike) but are different rows to store, so numeric goes through its text
     * (which, unlike float or timestamptz text, depends on no session setting).
     */
    private static List<RowHash.Form> textExactHashable(ResolvedQuery q) {
        return q.columns().stream().map(c -> RowHash.form(c.type(), c.hashable(), true, c.deterministic())).toList();
    }

    private static List<RowHash.Form> hashable(ResolvedQuery q) {
        return q.columns().stream().map(c -> RowHash.form(c.type(), c.hashable(), false)).toList();
    }

    private static String columnList(String alias, ResolvedQuery q) {
        return String.join(", ", qualified(alias, q));
    }

    /**
     * The rows of a delta that holds each key at most once per sign ({@code rows}: content hash,
     * columns, weight), with their key's hash, less the keys whose two rows have one content: the
     * window sorts by key and weight, as the DISTINCT ON of the caller does, so one sort serves both.
     */
    private static String changedKeys(String rows, ResolvedQuery q, List<Integer> key) {
        return "(SELECT * FROM (SELECT r.*, count(*) OVER __pgt_k AS __pgt_n, min(r.__pgt_h) OVER __pgt_k AS __pgt_lo,"
                + " max(r.__pgt_h) OVER __pgt_k AS __pgt_hi FROM (SELECT " + keyHash("d", q, key)
                + " AS __pgt_row_id, d.*, d.__pgt_w AS __pgt_net FROM (" + rows + ") d) r"
                + " WINDOW __pgt_k AS (PARTITION BY r.__pgt_row_id ORDER BY r.__pgt_net DESC"
                + " ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) w"
                + " WHERE w.__pgt_n = 1 OR w.__pgt_lo <> w.__pgt_hi)";
    }

    /**
     * One row per content hash of {@code d} with its net weight (rows whose weights cancel are
     * dropped). DISTINCT ON picks the values, which works for every type.
     */
    private static String netPerHash(ResolvedQuery q) {
        return "SELECT * FROM (SELECT DISTINCT ON (d.__pgt_h) d.__pgt_h, " + columnList("d", q)
                + ", (sum(d.__pgt_w) OVER (PARTITION BY d.__pgt_h))::bigint AS __pgt_net FROM d) n WHERE n.__pgt_net <> 0";
    }
}
