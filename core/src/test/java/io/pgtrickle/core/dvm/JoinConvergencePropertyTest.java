package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.dvm.JoinPropertyTest.OpBatch;
import io.pgtrickle.core.dvm.JoinPropertyTest.QueryGen;
import io.pgtrickle.core.dvm.JoinPropertyTest.Row;
import io.pgtrickle.core.dvm.JoinPropertyTest.Table;
import io.pgtrickle.core.testing.Oracle;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
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
 * Join-delta convergence (EC-01, release plan item A02) at volume: many DML sequences against a fixed
 * pool of join queries. {@link JoinPropertyTest} draws a new query, schema and stream tables for
 * every case, which costs most of a case's time; here {@value #POOL} join queries from the same
 * generator (two- and three-table, inner and outer, nested, USING/NATURAL, keyed and keyless, under
 * DISTINCT and aggregates) are created once, each in its own schema as a DIFFERENTIAL and a FULL
 * stream table (every other one also as an IMMEDIATE stream table), and every try is a DML sequence
 * against one of them.
 *
 * <p>A try starts from empty sources (every row deleted and the DIFFERENTIAL stream table refreshed, so that no
 * try depends on the one before and a counterexample replays), inserts its initial rows, then runs
 * its batches of inserts, key and non-key updates and deletes, some rolled back, some with a
 * rolled-back savepoint. After every batch: the DIFFERENTIAL refresh is differential (never a FULL
 * fallback), FULL == the query, and DIFFERENTIAL and IMMEDIATE == FULL (hidden columns and row
 * identities included), all in one statement.
 *
 * <p>1,000 tries in the default build ({@code -Dpgtrickle.convergence.tries=N}). The long profile runs
 * {@code pgtrickle.property.tries} (50,000) split in halves between this class and
 * {@link JoinConvergencePropertyShard}, each in a JVM and embedded server of its own, so that both
 * cores work: {@code mvn -B -pl core test -Plong-properties
 * -Dpgtrickle.long.tests='JoinConvergenceProperty*'}.
 */
class JoinConvergencePropertyTest {
    /** How many join queries the tries are spread over. */
    static final int POOL = 64;
    /** The pool is the same in every run: a failure names its query by index and prints it. */
    private static final long POOL_SEED = 20261202L;

    /**
     * One query of the pool: its schema, the query, whether a, b, c have primary keys, whether it has
     * an IMMEDIATE twin, and the comparison of its FULL stream table with the query.
     */
    record Entry(String schema, String query, List<Table> used, List<Boolean> keyed, boolean immediate, String fullVsQuery) {
        List<String> twins() {
            return immediate ? List.of(schema + ".d", schema + ".i") : List.of(schema + ".d");
        }
    }

    private static TwinChecks twins;
    private static final List<Entry> pool = new ArrayList<>();

    @BeforeContainer
    static void setUp() throws SQLException {
        twins = new TwinChecks(JoinConvergencePropertyTest.class);
        Random random = new Random(POOL_SEED);
        for (int p = 0; p < POOL; p++) {
            List<Integer> decisions = IntStream.range(0, 40).mapToObj(i -> random.nextInt(10_000)).toList();
            QueryGen gen = new QueryGen(new Choices(decisions), Grammar.fromSystemProperty());
            String schema = "jc" + p;
            String query = gen.query().replace("{S}", schema);
            List<Boolean> keyed = List.of(random.nextBoolean(), random.nextBoolean(), random.nextBoolean());
            twins.session.exec("CREATE SCHEMA " + schema);
            for (int t = 0; t < JoinPropertyTest.TABLES.size(); t++) {
                twins.session.exec(JoinPropertyTest.TABLES.get(t).ddl(keyed.get(t)).replace("{S}", schema));
            }
            twins.createDifferential(schema, query);
            twins.session.api.create(CreateOptions.of(schema + ".f", query).withRefreshMode(RefreshMode.FULL));
            // Every other query has an IMMEDIATE twin: its triggers are most of a try's write cost.
            boolean immediate = p % 2 == 0;
            if (immediate) {
                twins.session.api.create(CreateOptions.of(schema + ".i", query).withRefreshMode(RefreshMode.IMMEDIATE));
            }
            String fullVsQuery = Oracle.differenceQuery(twins.session.connection(), schema + ".f");
            pool.add(new Entry(schema, query, List.copyOf(gen.tables), keyed, immediate, fullVsQuery));
        }
    }

    @AfterContainer
    static void tearDown() throws SQLException {
        for (Entry e : pool) {
            twins.dropSchema(e.schema());
        }
        pool.clear();
        twins.close();
    }

    /** A try: the pool entry, the initial rows of a, b and c, and the batches. */
    record Case(int entry, List<List<Row>> rows, List<OpBatch> batches) {
        /** The try as the script it runs ({@code {S}}: the entry's schema). */
        List<DmlBatch> script() {
            Entry e = pool.get(entry);
            List<String> inserts = new ArrayList<>();
            for (Table t : e.used()) {
                List<Row> r = rows.get(JoinPropertyTest.TABLES.indexOf(t));
                if (!r.isEmpty()) {
                    inserts.add("INSERT INTO {S}." + t.name() + " VALUES " + r.stream().map(t::row).collect(Collectors.joining(", "))
                            + " ON CONFLICT DO NOTHING");
                }
            }
            List<DmlBatch> out = new ArrayList<>();
            if (!inserts.isEmpty()) {
                out.add(new DmlBatch(inserts, DmlBatch.Ending.COMMIT, 0));
            }
            for (OpBatch b : batches) {
                out.add(new DmlBatch(b.ops().stream().map(o -> {
                    Table t = e.used().get(o.table() % e.used().size());
                    return o.render(t, e.keyed().get(JoinPropertyTest.TABLES.indexOf(t)));
                }).toList(), b.ending(), b.savepointAt()));
            }
            return out;
        }

        @Override
        public String toString() {
            Entry e = pool.get(entry);
            StringBuilder sb = new StringBuilder("\n-- pool entry " + entry + ": schema " + e.schema() + ", tables "
                    + e.used().stream().map(t -> t.name() + (e.keyed().get(JoinPropertyTest.TABLES.indexOf(t)) ? " (keyed)" : " (keyless)"))
                            .collect(Collectors.joining(", "))
                    + "\n-- stream tables d (DIFFERENTIAL), f (FULL)" + (e.immediate() ? ", i (IMMEDIATE)" : "") + " over:\n" + e.query()
                    + ";\n-- from empty sources:\n");
            script().forEach(b -> sb.append(b.toString().replace("{S}", e.schema())).append('\n'));
            return sb.toString();
        }
    }

    @Property(edgeCases = EdgeCasesMode.NONE)
    @PropertyTries(systemProperty = "pgtrickle.convergence.tries", tries = 1000, longRunDivisor = JoinConvergencePropertyShard.SHARDS)
    void differentialConvergesToFullAndTheQuery(@ForAll("cases") Case c) throws SQLException {
        Entry e = pool.get(c.entry());
        String d = e.schema() + ".d";
        String f = e.schema() + ".f";
        // FULL needs no reset: its next refresh recomputes everything whatever it held before.
        twins.run(new DmlBatch(e.used().stream().map(t -> "DELETE FROM {S}." + t.name()).toList(), DmlBatch.Ending.COMMIT, 0),
                e.schema(), null);
        twins.session.api.refresh(d);
        List<DmlBatch> script = c.script();
        for (int b = 0; b < script.size(); b++) {
            twins.run(script.get(b), e.schema(), null);
            assertThat(twins.session.api.refresh(d).action()).as("DIFFERENTIAL refresh after batch %d", b + 1)
                    .isIn("DIFFERENTIAL", "NO_DATA");
            twins.session.api.refresh(f);
            twins.checkAll(f, e.fullVsQuery(), e.twins(), "after batch " + (b + 1));
        }
    }

    @Provide
    Arbitrary<Case> cases() {
        Arbitrary<Row> row = JoinPropertyTest.rows();
        return Combinators.combine(Arbitraries.integers().between(0, POOL - 1), row.list().ofMaxSize(6).list().ofSize(3),
                JoinPropertyTest.batches().list().ofMinSize(1).ofMaxSize(4)).as(Case::new);
    }
}
