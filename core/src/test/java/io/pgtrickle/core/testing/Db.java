package io.pgtrickle.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables;
import io.pgtrickle.embedded.ReusedSessions;
import io.pgtrickle.embedded.TestDatabase;
import io.pgtrickle.embedded.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * A fresh database with pg_trickle installed, on the shared test server (embedded PostgreSQL 18,
 * or the server named by PGTRICKLE_TEST_URL), plus small helpers and the oracle.
 */
public final class Db {
    public final TestDatabase database;
    public final StreamTables api;

    private Db(TestDatabase database) {
        this.database = database;
        this.api = StreamTables.using(ReusedSessions.dataSource(database.jdbcUrl()));
    }

    /**
     * A new database named after the test class, with the catalog installed. The cost guard
     * ({@code pg_trickle.cost_model_safety_margin}) is off in it: the suites that prove the
     * differential path require every refresh to be differential, and the guard, which reads
     * refresh times, could turn one FULL on a busy machine. Its own tests reset it.
     */
    public static Db create(Class<?> testClass) {
        Db db = new Db(TestPostgres.newDatabase(testClass.getSimpleName(), catalogTemplate()));
        // On a session of the server's admin database: one of the new database, started before the setting, could not be reused.
        try (Connection admin = ReusedSessions.connect(TestPostgres.adminUrl()); Statement st = admin.createStatement()) {
            st.execute("ALTER DATABASE " + db.database.name() + " SET pg_trickle.cost_model_safety_margin = 0");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return db;
    }

    /**
     * A database with the catalog installed, which {@link #create} copies: copying is faster than
     * installing (about a hundred statements) in each of the suite's databases. Installed over
     * sessions of its own, all closed, since PostgreSQL copies only a database nobody is connected to.
     */
    private static synchronized TestDatabase catalogTemplate() {
        if (catalogTemplate == null) {
            TestDatabase template = TestPostgres.newDatabase("pgtrickle_catalog_template");
            StreamTables.connect(template.jdbcUrl()).install();
            catalogTemplate = template;
        }
        return catalogTemplate;
    }

    private static TestDatabase catalogTemplate;

    /** A new database without the catalog. */
    public static Db createEmpty(Class<?> testClass) {
        return new Db(TestPostgres.newDatabase(testClass.getSimpleName()));
    }

    public String url() {
        return database.jdbcUrl();
    }

    /** A session to the database: a reused one, reset (see {@link ReusedSessions}). */
    public Connection connect() {
        try {
            return ReusedSessions.connect(database.jdbcUrl());
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The stored differential apply statement of stream table {@code name}. */
    public String diffApplySql(String name) {
        return storedSql("diff_apply_sql", name);
    }

    /** The stored FULL refresh statement of stream table {@code name}. */
    public String fullApplySql(String name) {
        return storedSql("full_apply_sql", name);
    }

    private String storedSql(String column, String name) {
        return queryString("SELECT " + column + " FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '" + name + "'");
    }

    /** Creates public.case_blind, an ICU collation where 'red' = 'Red' (nondeterministic), unless it exists. */
    public void createCaseBlindCollation() {
        exec("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_collation WHERE collname = 'case_blind') THEN "
                + "CREATE COLLATION public.case_blind (provider = icu, locale = 'und-u-ks-level2', deterministic = false); "
                + "END IF; END $$");
    }

    /** Runs statements, each in its own autocommit transaction. */
    public void exec(String... sql) {
        try (Connection c = connect(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + String.join("; ", sql), e);
        }
    }

    public long queryLong(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    public String queryString(String sql) {
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    public List<String> queryStrings(String sql) {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage() + " in: " + sql, e);
        }
    }

    /**
     * The oracle: the stream table's visible columns equal its defining query, as multisets.
     * Uses the query stored in the catalog, i.e. the one the engine runs.
     */
    public void assertOracle(String streamTable) {
        assertThat(Oracle.differences(this, streamTable)).as("rows differing between %s and its query", streamTable)
                .isEmpty();
    }
}
