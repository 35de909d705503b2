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

/**
 * What the random join and query properties share: their database and session, and the life of one
 * case: its schema, the DIFFERENTIAL stream table {@code d}, its FULL twin {@code f} and its
 * IMMEDIATE twin {@code i}, the batches, the comparisons (for {@code i} after every statement,
 * inside the writing transaction), and dropping it all.
 */
final class TwinChecks implements AutoCloseable {
    /**
     * Cases run in one database before the next one starts in a new database: a case creates and
     * drops a schema with three tables and three stream tables, and cases grew slower as their dead
     * catalog rows piled up (0.5 s a case for the first 200, about 1 s by case 400).
     */
    static final int CASES_PER_DATABASE = 50;

    private final Class<?> testClass;
    private int cases;
    Db db;
    SharedSession session;

    TwinChecks(Class<?> testClass) {
        this.testClass = testClass;
        this.db = Db.create(testClass);
        this.session = new SharedSession(db);
    }

    /** Creates the schema with the scenario's tables and rows; returns the query in that schema. */
    String setUp(String schema, TwinScenario scenario) {
        session.exec("CREATE SCHEMA " + schema);
        session.exec(scenario.setup().stream().map(s -> s.replace("{S}", schema)).toArray(String[]::new));
        return scenario.query().replace("{S}", schema);
    }

    /** Creates {@code schema.d} in DIFFERENTIAL; it must not resolve to anything else. */
    void createDifferential(String schema, String query) {
        assertThat(session.api.create(CreateOptions.of(schema + ".d", query).withRefreshMode(RefreshMode.DIFFERENTIAL))
                .streamTable().refreshMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
    }

    /**
     * Creates the FULL twin {@code schema.f}, compares, then runs the batches; after each one both
     * are refreshed (DIFFERENTIAL without falling back to FULL) and compared.
     */
    void createFullTwinAndRun(String schema, String query, TwinScenario scenario) throws SQLException {
        String d = schema + ".d";
        String f = schema + ".f";
        // Every other case also has an IMMEDIATE twin: the default build stays within its time budget.
        String im = Math.floorMod(schema.hashCode(), 2) == 0 ? schema + ".i" : null;
        session.api.create(CreateOptions.of(f, query).withRefreshMode(RefreshMode.FULL));
        if (im != null) {
            session.api.create(CreateOptions.of(im, query).withRefreshMode(RefreshMode.IMMEDIATE));
            check(im, f, "after create");
        }
        check(d, f, "after create");
        for (int i = 0; i < scenario.batches().size(); i++) {
            run(scenario.batches().get(i), schema, im);
            assertThat(session.api.refresh(d).action()).as("DIFFERENTIAL refresh after batch %d", i + 1)
                    .isIn("DIFFERENTIAL", "NO_DATA");
            session.api.refresh(f);
            check(d, f, "after batch " + (i + 1));
            if (im != null) {
                check(im, f, "after batch " + (i + 1));
            }
        }
    }

    /**
     * DIFFERENTIAL (or IMMEDIATE) == the query (the oracle, over the visible columns) and == FULL over
     * all columns, row identities and hidden aggregate state included; together: FULL == the query.
     */
    void check(String differential, String full, String when) {
        assertThat(Oracle.differences(session.connection(), differential)).as("DIFFERENTIAL vs query %s", when).isEmpty();
        assertThat(session.strings("(" + twinDifferences(differential, full) + ") LIMIT 20"))
                .as("DIFFERENTIAL vs FULL, hidden columns included, %s", when).isEmpty();
    }

    /**
     * The same chain in one statement: {@code fullVsQuery} (the {@link Oracle#differenceQuery} of the
     * FULL stream table, built once by the caller) and every twin == FULL over all columns. Each
     * difference names the comparison it comes from.
     */
    void checkAll(String full, String fullVsQuery, List<String> twins, String when) {
        StringBuilder sql = new StringBuilder("(SELECT '" + full + " vs query, ' || r FROM " + fullVsQuery + " o(r))");
        for (String twin : twins) {
            sql.append(" UNION ALL (").append(twinDifferences(twin, full)).append(')');
        }
        assertThat(session.strings(sql + " LIMIT 20")).as("FULL vs query and its twins vs FULL, %s", when).isEmpty();
    }

    /** Rows of {@code twin} and {@code full} (all columns) that are not in the other. */
    private static String twinDifferences(String twin, String full) {
        return String.format("""
                (SELECT '%1$s only: ' || r FROM (SELECT (t.*)::text AS r FROM %1$s t
                                                 EXCEPT ALL SELECT (t.*)::text FROM %2$s t) x)
                UNION ALL
                (SELECT '%2$s only (vs %1$s): ' || r FROM (SELECT (t.*)::text AS r FROM %2$s t
                                                           EXCEPT ALL SELECT (t.*)::text FROM %1$s t) x)""", twin, full);
    }

    /** Runs the batch in one transaction; {@code immediate} (if not null) must equal its query after every statement. */
    void run(DmlBatch batch, String schema, String immediate) throws SQLException {
        Connection c = session.connection();
        try (Statement st = c.createStatement()) {
            c.setAutoCommit(false);
            for (int i = 0; i <= batch.statements().size(); i++) {
                if (batch.ending() == DmlBatch.Ending.SAVEPOINT_ROLLED_BACK && i == batch.savepointAt()) {
                    st.execute("SAVEPOINT sp");
                }
                if (i < batch.statements().size()) {
                    st.execute(batch.statements().get(i).replace("{S}", schema));
                    if (immediate != null) {
                        assertThat(Oracle.differences(c, immediate)).as("IMMEDIATE vs query after statement %d", i + 1).isEmpty();
                    }
                }
            }
            switch (batch.ending()) {
                case COMMIT -> c.commit();
                case ROLLBACK -> c.rollback();
                case SAVEPOINT_ROLLED_BACK -> {
                    st.execute("ROLLBACK TO SAVEPOINT sp");
                    if (immediate != null) {
                        assertThat(Oracle.differences(c, immediate)).as("IMMEDIATE vs query after ROLLBACK TO SAVEPOINT").isEmpty();
                    }
                    c.commit();
                }
            }
        } finally {
            if (!c.getAutoCommit()) {
                c.rollback();
                c.setAutoCommit(true);
            }
        }
    }

    /** Drops the schema's stream tables through the API, then the schema. */
    void dropSchema(String schema) {
        session.api.list().stream().filter(st -> st.schema().equals(schema))
                .forEach(st -> session.api.drop(st.qualifiedName(), true));
        session.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    }

    /**
     * Drops the case's schema ({@link #dropSchema}) and, every {@link #CASES_PER_DATABASE} cases,
     * moves on to a new database, for properties whose cases share nothing.
     */
    void endCase(String schema) throws SQLException {
        dropSchema(schema);
        if (++cases % CASES_PER_DATABASE == 0) {
            session.close();
            db = Db.create(testClass);
            session = new SharedSession(db);
        }
    }

    @Override
    public void close() throws SQLException {
        session.close();
    }
}
