package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random tables (keyed or keyless, nullable columns, duplicates), random queries from the grammar
 * DIFFERENTIAL supports (including inner, self, cross, non-equi and 3-way joins), and random DML batches (inserts, updates of key and non-key columns,
 * deletes, rolled-back transactions). After every batch: DIFFERENTIAL == FULL == IMMEDIATE == the query;
 * the IMMEDIATE twin also after every statement, inside the writing transaction.
 *
 * <p>500 tries by default; {@code mvn -B -pl core test -Plong-properties} runs 50,000.
 */
class DifferentialPropertyTest {
    private static Db db;
    private static final AtomicInteger SCHEMAS = new AtomicInteger();

    @BeforeContainer
    static void setUp() {
        db = Db.create(DifferentialPropertyTest.class);
    }

    @AfterContainer
    static void tearDown() {
        db = null;
    }

    /** A query template over table {@code T} with placeholders filled by constants. */
    record Scenario(boolean keyed, String query, List<List<String>> batches, List<Boolean> rollbacks) {
        @Override
        public String toString() {
            return (keyed ? "keyed" : "keyless") + " table; query: " + query + "; batches: " + batches
                    + "; rolled back: " + rollbacks;
        }
    }

    @Property
    void differentialEqualsFullEqualsTheQuery(@ForAll("scenarios") Scenario scenario) throws SQLException {
        String schema = "p" + SCHEMAS.incrementAndGet();
        String table = schema + ".t";
        db.exec("CREATE SCHEMA " + schema,
                "CREATE TABLE " + table + " (id int" + (scenario.keyed() ? " PRIMARY KEY" : "") + ", k int, v int, s text)",
                "INSERT INTO " + table + " VALUES (1, 1, 5, 'a'), (2, 1, NULL, 'b'), (3, NULL, 7, NULL), (4, 2, 2, 'ab')"
                        + (scenario.keyed() ? "" : ", (4, 2, 2, 'ab')"),
                "CREATE TABLE " + schema + ".u (id int" + (scenario.keyed() ? " PRIMARY KEY" : "") + ", k int, w int)",
                "INSERT INTO " + schema + ".u VALUES (1, 1, 3), (2, 2, NULL), (3, NULL, 5)"
                        + (scenario.keyed() ? "" : ", (3, NULL, 5)"));
        String query = scenario.query().replace("{T}", table).replace("{U}", schema + ".u");
        try {
            db.api.create(CreateOptions.of(schema + ".d", query).withRefreshMode(RefreshMode.DIFFERENTIAL));
            db.api.create(CreateOptions.of(schema + ".f", query).withRefreshMode(RefreshMode.FULL));
            db.api.create(CreateOptions.of(schema + ".i", query).withRefreshMode(RefreshMode.IMMEDIATE));
            for (int b = 0; b < scenario.batches().size(); b++) {
                runBatch(scenario.batches().get(b), scenario.rollbacks().get(b), table, schema + ".i");
                assertThat(db.api.refresh(schema + ".d").action()).isIn("DIFFERENTIAL", "NO_DATA");
                db.api.refresh(schema + ".f");
                assertThat(Oracle.differences(db, schema + ".d")).as("DIFFERENTIAL vs query after batch %d", b).isEmpty();
                assertThat(Oracle.differences(db, schema + ".f")).as("FULL vs query after batch %d", b).isEmpty();
                assertThat(Oracle.differences(db, schema + ".i")).as("IMMEDIATE vs query after batch %d", b).isEmpty();
            }
        } finally {
            db.api.list().stream().filter(st -> st.schema().equals(schema))
                    .forEach(st -> db.api.drop(st.qualifiedName(), true));
            db.exec("DROP SCHEMA " + schema + " CASCADE");
            if (SCHEMAS.get() % TwinChecks.CASES_PER_DATABASE == 0) {
                db = Db.create(DifferentialPropertyTest.class); // dead catalog rows slow later cases (TwinChecks)
            }
        }
    }

    /** Runs one batch in a transaction; the IMMEDIATE twin must equal its query after every statement. */
    private static void runBatch(List<String> statements, boolean rollback, String table, String immediate) throws SQLException {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (String s : statements) {
                st.execute(s.replace("{T}", table).replace("{U}", table.replace(".t", ".u")));
                assertThat(Oracle.differences(c, immediate)).as("IMMEDIATE vs query after %s", s).isEmpty();
            }
            if (rollback) {
                c.rollback();
            } else {
                c.commit();
            }
        }
    }

    // ---- generators ---------------------------------------------------------------------------

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<List<String>> batch = statement().list().ofMinSize(1).ofMaxSize(4);
        return Combinators.combine(Arbitraries.of(true, false), query(), batch.list().ofMinSize(1).ofMaxSize(5),
                        Arbitraries.integers().between(0, 6).list().ofSize(5))
                .as((keyed, q, batches, dice) -> new Scenario(keyed, q, batches,
                        dice.subList(0, batches.size()).stream().map(d -> d == 0).toList()));
    }

    private static Arbitrary<Integer> small() {
        return Arbitraries.integers().between(0, 3);
    }

    private static Arbitrary<String> value() {
        return Arbitraries.oneOf(small().map(String::valueOf), Arbitraries.just("NULL"));
    }

    private static Arbitrary<String> text() {
        return Arbitraries.of("'a'", "'b'", "'ab'", "NULL");
    }

    private static Arbitrary<String> statement() {
        Arbitrary<String> insert = Combinators.combine(Arbitraries.integers().between(1, 8), value(),
                        Arbitraries.oneOf(Arbitraries.integers().between(0, 9).map(String::valueOf), Arbitraries.just("NULL")), text())
                .as((id, k, v, s) -> "INSERT INTO {T} VALUES (" + id + ", " + k + ", " + v + ", " + s + ")"
                        + " ON CONFLICT DO NOTHING");
        Arbitrary<String> updateValue = Combinators.combine(Arbitraries.of("v", "s", "k"), value(), small())
                .as((col, val, where) -> "UPDATE {T} SET " + col + " = " + (col.equals("s") ? "NULLIF('x' || " + val + ", 'x')" : val)
                        + " WHERE k = " + where);
        Arbitrary<String> bump = small().map(k -> "UPDATE {T} SET v = coalesce(v, 0) + 1 WHERE k IS NOT DISTINCT FROM " + k);
        Arbitrary<String> updateKey = Combinators.combine(Arbitraries.integers().between(1, 8), Arbitraries.integers().between(1, 8))
                .as((from, to) -> "UPDATE {T} SET id = " + to + " WHERE id = " + from
                        + " AND NOT EXISTS (SELECT 1 FROM {T} x WHERE x.id = " + to + ")");
        Arbitrary<String> delete = Arbitraries.oneOf(
                small().map(k -> "DELETE FROM {T} WHERE k = " + k),
                Arbitraries.integers().between(1, 8).map(id -> "DELETE FROM {T} WHERE ctid IN (SELECT ctid FROM {T} WHERE id = " + id + " LIMIT 1)"),
                Arbitraries.just("DELETE FROM {T} WHERE v IS NULL"));
        Arbitrary<String> onU = Arbitraries.oneOf(
                Combinators.combine(Arbitraries.integers().between(1, 6), value(), value())
                        .as((id, k, w) -> "INSERT INTO {U} VALUES (" + id + ", " + k + ", " + w + ") ON CONFLICT DO NOTHING"),
                Combinators.combine(small(), value()).as((k, w) -> "UPDATE {U} SET w = " + w + " WHERE k = " + k),
                Combinators.combine(small(), value()).as((k, k2) -> "UPDATE {U} SET k = " + k2 + " WHERE k = " + k),
                small().map(k -> "DELETE FROM {U} WHERE k = " + k));
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, insert), net.jqwik.api.Tuple.of(2, updateValue), net.jqwik.api.Tuple.of(1, bump),
                net.jqwik.api.Tuple.of(1, updateKey), net.jqwik.api.Tuple.of(2, delete), net.jqwik.api.Tuple.of(3, onU));
    }

    private static Arbitrary<String> predicate() {
        return Arbitraries.oneOf(
                small().map(c -> "v > " + c * 2), small().map(c -> "k = " + c), Arbitraries.just("k IS NULL"),
                Arbitraries.just("s IS NOT NULL"), small().map(c -> "(v % 2 = 0 OR k > " + c + ")"),
                Arbitraries.just("s LIKE 'a%'"), small().map(c -> "v BETWEEN " + c + " AND " + (c + 5)),
                Arbitraries.just("k IN (1, 2)"), small().map(c -> "coalesce(v, 0) <> " + c));
    }

    private static Arbitrary<String> where() {
        return Arbitraries.oneOf(Arbitraries.just(""), predicate().map(p -> " WHERE " + p));
    }

    private static Arbitrary<String> projection() {
        Arbitrary<String> expr = Arbitraries.of("k", "v", "s", "v * 2 AS v2", "coalesce(s, '-') AS s2",
                "CASE WHEN v > 4 THEN 'hi' ELSE 'lo' END AS c1", "nullif(k, 1) AS nk", "(v IS DISTINCT FROM 3) AS d1",
                "upper(s) AS us", "id");
        return expr.set().ofMinSize(1).ofMaxSize(3).map(set -> String.join(", ", set));
    }

    private static Arbitrary<String> aggregates() {
        Arbitrary<String> agg = Arbitraries.of("count(*) AS n", "count(v) AS nv", "sum(v) AS sv", "avg(v) AS av",
                "min(v) AS mn", "max(s) AS mx", "string_agg(s, ',' ORDER BY s) AS sa", "bool_or(v > 4) AS bo",
                "count(DISTINCT k) AS dk", "sum(v) FILTER (WHERE k = 1) AS fs", "max(v) - min(v) AS spread",
                "array_agg(v ORDER BY v) AS av2");
        return agg.set().ofMinSize(1).ofMaxSize(3).map(set -> String.join(", ", set));
    }

    private static Arbitrary<String> query() {
        Arbitrary<String> linear = Combinators.combine(projection(), where()).as((p, w) -> "SELECT " + p + " FROM {T}" + w);
        Arbitrary<String> distinct = Combinators.combine(Arbitraries.of("k", "s", "k, s", "v % 3 AS m"), where())
                .as((p, w) -> "SELECT DISTINCT " + p + " FROM {T}" + w);
        Arbitrary<String> grouped = Combinators.combine(Arbitraries.of("k", "s", "k, s", "v % 3"), aggregates(), where(),
                        Arbitraries.of("", " HAVING count(*) > 1", " HAVING sum(v) > 4"))
                .as((key, aggs, w, having) -> "SELECT " + (key.equals("v % 3") ? "v % 3 AS m" : key) + ", " + aggs
                        + " FROM {T}" + w + " GROUP BY " + key + having);
        Arbitrary<String> scalar = Combinators.combine(aggregates(), where()).as((a, w) -> "SELECT " + a + " FROM {T}" + w);
        Arbitrary<String> union = Combinators.combine(predicate(), predicate())
                .as((p1, p2) -> "SELECT k, v FROM {T} WHERE " + p1 + " UNION ALL SELECT k, v FROM {T} WHERE " + p2);
        Arbitrary<String> sub = Combinators.combine(predicate(), aggregates())
                .as((p, a) -> "SELECT x.k, " + a.replace("(v", "(x.v").replace("(s", "(x.s").replace(" v", " x.v")
                        + " FROM (SELECT k, v + 1 AS v, s FROM {T} WHERE " + p + ") x GROUP BY x.k");
        Arbitrary<String> join = Combinators.combine(Arbitraries.of(
                                "SELECT t.k, t.v, u.w FROM {T} t JOIN {U} u ON u.k = t.k",
                                "SELECT t.id, u.id AS uid FROM {T} t, {U} u WHERE t.v > u.w",
                                "SELECT a.id, b.id AS bid FROM {T} a JOIN {T} b ON a.k = b.k AND a.id < b.id",
                                "SELECT t.s, u.w, t2.id FROM {T} t JOIN {U} u ON u.k = t.k JOIN {T} t2 ON t2.v = u.w",
                                "SELECT t.k, u.w FROM {T} t CROSS JOIN {U} u",
                                // keyed tables: rows unique by t's key, identified by it (KeyedRows)
                                "SELECT t.id, u.w, t.v FROM {T} t JOIN {U} u ON u.id = t.k",
                                "SELECT t.id, u.w, t2.s FROM {T} t JOIN {U} u ON u.id = t.k JOIN {T} t2 ON t2.id = u.k"),
                        Arbitraries.of("", " WHERE t.v IS NOT NULL", " WHERE coalesce(u.w, 0) < 4"))
                .as((q, w) -> q.contains(" t ") && q.contains(" u ") && !q.contains("WHERE") ? q + w : q);
        Arbitrary<String> joinAgg = Arbitraries.of(
                "SELECT t.k, count(*) AS n, sum(u.w) AS sw, min(u.w) AS mw FROM {T} t JOIN {U} u ON u.k = t.k GROUP BY t.k",
                "SELECT u.w, string_agg(t.s, ',' ORDER BY t.s) AS ss FROM {T} t JOIN {U} u ON u.k = t.k GROUP BY u.w",
                "SELECT count(*) AS n, max(t.v + u.w) AS top FROM {T} t JOIN {U} u ON u.k IS NOT DISTINCT FROM t.k",
                "SELECT DISTINCT t.k, u.w FROM {T} t JOIN {U} u ON u.k = t.k");
        return Arbitraries.oneOf(linear, distinct, grouped, scalar, union, sub, join, joinAgg, orderAndSets(), subqueries());
    }

    /**
     * Subqueries in the select list and WHERE of a query over one table: over a keyed table each row
     * is evaluated against its own state (FromClause#ownStates), over a keyless one by the
     * telescoping sum. The outer WHERE gets one more random condition.
     */
    private static Arbitrary<String> subqueries() {
        Arbitrary<String> open = Arbitraries.of(
                "SELECT t.id, t.v, (SELECT min(u.w) FROM {U} u WHERE u.k = t.k) AS mw FROM {T} t",
                "SELECT t.id, (SELECT count(*) FROM {T} t2 WHERE t2.k = t.k) AS peers FROM {T} t",
                "SELECT t.id, t.k IN (SELECT u.k FROM {U} u) AS known, NOT EXISTS (SELECT 1 FROM {U} u WHERE u.id = t.id) AS lonely"
                        + " FROM {T} t",
                "SELECT t.k, t.s, (SELECT max(u.w) FROM {U} u WHERE u.k = t.k) AS top FROM {T} t");
        Arbitrary<String> filtered = Arbitraries.of(
                "SELECT t.id, t.k FROM {T} t WHERE EXISTS (SELECT 1 FROM {U} u WHERE u.k = t.k AND u.w > t.v)",
                "SELECT t.id, t.s FROM {T} t WHERE t.k NOT IN (SELECT u.k FROM {U} u WHERE u.w > 2)",
                "SELECT t.id, (SELECT count(*) FROM {U} u WHERE u.k = t.k) AS n FROM {T} t WHERE t.v > (SELECT min(u.w) FROM {U} u)",
                "SELECT t.id, t.v FROM {T} t WHERE coalesce(t.v, 0) >= (SELECT max(u.w) FROM {U} u WHERE u.k = t.k)",
                // three subqueries: a row counts in the term of the first one whose changes can matter to it
                "SELECT t.id, (SELECT min(u.w) FROM {U} u WHERE u.k = t.k) AS mw FROM {T} t"
                        + " WHERE EXISTS (SELECT 1 FROM {U} u WHERE u.w = t.v) AND t.k NOT IN (SELECT u.id FROM {U} u WHERE u.w > 3)");
        return Arbitraries.oneOf(Combinators.combine(open, where()).as((q, w) -> q + w),
                Combinators.combine(filtered, where()).as((q, w) -> q + w.replace(" WHERE ", " AND ")));
    }

    /**
     * Windows, TopK, DISTINCT ON, set operations and grouping sets, at the top and below it. Orders
     * that must not tie (row_number, LIMIT, DISTINCT ON) name every column the query reads of the
     * table, which is a unique key of it up to identical rows, keyed or not.
     */
    private static Arbitrary<String> orderAndSets() {
        Arbitrary<String> window = Combinators.combine(Arbitraries.of(
                                "rank() OVER (PARTITION BY k ORDER BY v DESC NULLS LAST)", "dense_rank() OVER (PARTITION BY k ORDER BY s)",
                                "sum(v) OVER (PARTITION BY k)", "count(*) OVER (PARTITION BY k ORDER BY v)",
                                "row_number() OVER (PARTITION BY k ORDER BY v, id, s)",
                                "lag(v) OVER (PARTITION BY k ORDER BY v NULLS FIRST, id, s)"),
                        where(), Arbitraries.of(true, false))
                .as((w, where, below) -> below
                        ? "SELECT x.k, x.v, x.r FROM (SELECT id, k, v, s, " + w + " AS r FROM {T}" + where + ") x WHERE x.r <= 2 OR x.r IS NULL"
                        : "SELECT id, k, v, s, " + w + " AS r FROM {T}" + where);
        Arbitrary<String> fixed = Arbitraries.of(
                "SELECT id, v FROM {T} ORDER BY v DESC NULLS LAST, id, k, s LIMIT 3",
                "SELECT q.id, q.v, u.w FROM (SELECT id, k, v FROM {T} ORDER BY v NULLS FIRST, id, k, s LIMIT 3) q JOIN {U} u ON u.k = q.k",
                "SELECT DISTINCT ON (k) k, v, s FROM {T} ORDER BY k, v DESC NULLS LAST, id, s",
                "SELECT d.k, d.v, count(*) OVER (PARTITION BY d.v) AS c FROM (SELECT DISTINCT ON (k) k, v FROM {T}"
                        + " ORDER BY k, v, id, s) d",
                "SELECT k FROM {T} INTERSECT SELECT k FROM {U}",
                "SELECT k, v FROM {T} EXCEPT ALL SELECT k, w FROM {U}",
                "SELECT y.k, count(*) AS n FROM (SELECT k FROM {T} INTERSECT ALL SELECT k FROM {U}) y GROUP BY y.k",
                "SELECT z.k, u.w FROM (SELECT k FROM {T} EXCEPT SELECT k FROM {U} WHERE w > 2) z LEFT JOIN {U} u ON u.k = z.k",
                "SELECT k, s, count(*) AS n, sum(v) AS sv FROM {T} GROUP BY ROLLUP (k, s)",
                "SELECT g.k, g.n FROM (SELECT k, count(*) AS n FROM {T} GROUP BY CUBE (k, s)) g WHERE g.n > 1");
        return Arbitraries.oneOf(window, fixed);
    }
}
