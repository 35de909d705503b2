package io.pgtrickle.core.dvm;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Recursion over changing graphs: a random graph on six nodes (edges keyed or keyless, so duplicate
 * edges occur), one of several recursive queries (closure, reachability from marked nodes through a
 * second table, closure with a hop count, and a UNION ALL walk that is re-run), then random batches
 * of edges and marks inserted, deleted and redirected, cycles closed and broken, some batches rolled
 * back. After every batch DIFFERENTIAL (and, for every other case, IMMEDIATE) == FULL == the query.
 * 60 cases by default ({@code -Dpgtrickle.recursive.tries=N}); the long profile runs
 * {@code pgtrickle.property.tries / 100}.
 */
class RecursivePropertyTest {
    private static final AtomicInteger SCHEMAS = new AtomicInteger();
    private static final int NODES = 6;
    private static TwinChecks twins;

    static final List<String> QUERIES = List.of(
            "WITH RECURSIVE r(a, b) AS (SELECT s.src, s.dst FROM {S}.e s UNION SELECT o.a, g.dst FROM r o JOIN {S}.e g ON g.src = o.b)"
                    + " SELECT a, b FROM r",
            "WITH RECURSIVE r(v) AS (SELECT id FROM {S}.n WHERE w = 0 UNION SELECT e.dst FROM r JOIN {S}.e e ON e.src = r.v"
                    + " JOIN {S}.n n ON n.id = e.dst WHERE n.w <> 2) SELECT v FROM r",
            "WITH RECURSIVE r(a, b, h) AS (SELECT src, dst, 1 FROM {S}.e UNION SELECT r.a, e.dst, r.h + 1 FROM r, {S}.e e"
                    + " WHERE e.src = r.b AND r.h < 3) SELECT a, b, h FROM r",
            "WITH RECURSIVE r(a, b) AS (SELECT src, dst FROM {S}.e WHERE src < dst UNION ALL SELECT r.a, e.dst FROM r"
                    + " JOIN {S}.e e ON e.src = r.b WHERE e.src < e.dst) SELECT a, b FROM r");

    @BeforeContainer
    static void setUp() {
        twins = new TwinChecks(RecursivePropertyTest.class);
    }

    @AfterContainer
    static void tearDown() throws SQLException {
        twins.close();
    }

    @Property(edgeCases = EdgeCasesMode.NONE)
    @PropertyTries(systemProperty = "pgtrickle.recursive.tries", tries = 60, longRunDivisor = 100)
    void recursionOverChangingGraphsEqualsFullAndTheQuery(@ForAll("scenarios") TwinScenario scenario) throws SQLException {
        String schema = "rp" + SCHEMAS.incrementAndGet();
        try {
            String query = twins.setUp(schema, scenario);
            twins.createDifferential(schema, query);
            twins.createFullTwinAndRun(schema, query, scenario);
        } finally {
            twins.endCase(schema);
        }
    }

    record Edge(int src, int dst) {
    }

    @Provide
    Arbitrary<TwinScenario> scenarios() {
        Arbitrary<Integer> node = Arbitraries.integers().between(0, NODES - 1);
        Arbitrary<Edge> edge = Combinators.combine(node, node).as(Edge::new);
        Arbitrary<String> statement = Arbitraries.oneOf(
                edge.map(e -> "INSERT INTO {S}.e (src, dst) VALUES (" + e.src() + ", " + e.dst() + ")"),
                edge.map(e -> "DELETE FROM {S}.e WHERE src = " + e.src() + " AND dst = " + e.dst()),
                node.map(v -> "DELETE FROM {S}.e WHERE src = " + v),
                edge.map(e -> "UPDATE {S}.e SET dst = " + e.dst() + " WHERE src = " + e.src()),
                Combinators.combine(node, Arbitraries.integers().between(0, 2)).as((v, w) -> "UPDATE {S}.n SET w = " + w + " WHERE id = " + v));
        Arbitrary<DmlBatch> batch = Combinators.combine(statement.list().ofMinSize(1).ofMaxSize(4),
                Arbitraries.of(DmlBatch.Ending.COMMIT, DmlBatch.Ending.COMMIT, DmlBatch.Ending.COMMIT, DmlBatch.Ending.ROLLBACK,
                        DmlBatch.Ending.SAVEPOINT_ROLLED_BACK),
                Arbitraries.integers().between(0, 4)).as(DmlBatch::new);
        return Combinators.combine(Arbitraries.of(QUERIES), Arbitraries.of(true, false), edge.list().ofMaxSize(8),
                Arbitraries.integers().between(0, 2).list().ofSize(NODES), batch.list().ofMinSize(1).ofMaxSize(4))
                .as((query, keyed, edges, marks, batches) -> {
                    List<String> setup = new ArrayList<>();
                    setup.add(keyed ? "CREATE TABLE {S}.e (id serial PRIMARY KEY, src int, dst int)" : "CREATE TABLE {S}.e (src int, dst int)");
                    setup.add("CREATE TABLE {S}.n (id int PRIMARY KEY, w int)");
                    for (Edge e : edges) {
                        setup.add("INSERT INTO {S}.e (src, dst) VALUES (" + e.src() + ", " + e.dst() + ")");
                    }
                    for (int v = 0; v < NODES; v++) {
                        setup.add("INSERT INTO {S}.n VALUES (" + v + ", " + marks.get(v) + ")");
                    }
                    return new TwinScenario(setup, query, batches);
                });
    }
}
