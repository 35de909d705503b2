package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The data step of a refresh, {@code pgtrickle_changes.apply_<id>}, holds the compiled SQL as
 * static PL/pgSQL statements, so a session keeps them planned. What that must not change: source
 * columns named like the function's variables, literals that look like its quoting or its INTO,
 * and a new query, which must reach sessions that planned the old one.
 */
class ApplyFunctionTest {
    private Db db;

    @BeforeEach
    void setUp() {
        db = Db.create(ApplyFunctionTest.class);
    }

    @Test
    void sourceColumnsNamedLikeTheFunctionsVariablesMeanTheColumns() {
        db.exec("CREATE TABLE vars (id int PRIMARY KEY, ins int, del int, p_action text, found boolean)",
                "INSERT INTO vars SELECT g, g, -g, 'a' || g, g % 2 = 0 FROM generate_series(1, 20) g");
        Twins twins = new Twins(db).withImmediate();
        twins.define("by_vars", "SELECT id, ins, del + 1 AS del1, p_action FROM vars WHERE found");
        twins.define("grouped_vars", "SELECT found, sum(ins) AS ins, count(del) AS del FROM vars GROUP BY found");
        for (String st : new String[] {"by_vars", "grouped_vars"}) {
            twins.step(st, "UPDATE vars SET ins = ins * 10, found = NOT found WHERE id % 3 = 0");
            twins.step(st, "DELETE FROM vars WHERE id IN (SELECT min(id) FROM vars)",
                    "INSERT INTO vars SELECT max(id) + 1, 4, 4, 'x', true FROM vars");
        }
    }

    @Test
    void literalsThatLookLikeDollarQuotesOrIntoAreKept() {
        db.exec("CREATE TABLE notes (id int PRIMARY KEY, body text)",
                "INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 10) g");
        String versionQuote = "$pgt_" + "0".repeat(32) + "$";
        Twins twins = new Twins(db);
        twins.define("quoted", "SELECT id, body || ' $$ $body$ $f$ INTO x -- not a comment' AS shown,"
                + " '" + versionQuote + "' AS q FROM notes WHERE body <> ' INTO ins, del; END'");
        twins.step("quoted", "UPDATE notes SET body = body || '!' WHERE id < 4", "DELETE FROM notes WHERE id = 9");
        assertThat(db.queryString("SELECT shown FROM quoted WHERE id = 1")).isEqualTo("n1! $$ $body$ $f$ INTO x -- not a comment");
    }

    @Test
    void anUpdateSeenOnlyInTheTextOfAValueReachesTheStreamTable() {
        db.exec("CREATE COLLATION apply_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
                "CREATE TABLE words (id int PRIMARY KEY, g int, w text COLLATE apply_ci, x numeric, n int)",
                "INSERT INTO words SELECT i, i % 3, 'w' || i, i, i FROM generate_series(1, 12) i");
        Twins twins = new Twins(db);
        // One row per group, updated in place: the stored values are compared with the new ones.
        twins.define("by_g", "SELECT g, string_agg(w, ',' ORDER BY id) AS ws, sum(x) AS sx, sum(n) AS sn FROM words GROUP BY g");
        assertThat(db.queryString("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'by_g'"))
                .containsPattern("\\.\"sn\" IS DISTINCT FROM \\w+\\.\"sn\"")
                .containsPattern("\\.\"ws\"::text COLLATE \"C\" IS DISTINCT FROM \\w+\\.\"ws\"::text COLLATE \"C\"");
        twins.step("by_g", "UPDATE words SET w = upper(w) WHERE id = 3");          // equal in apply_ci, another text
        assertThat(db.queryString("SELECT ws FROM by_g WHERE g = 0")).isEqualTo("W3,w6,w9,w12");
        twins.step("by_g", "UPDATE words SET x = 4.00 WHERE id = 4");             // an equal value, another text
        assertThat(db.queryString("SELECT sx::text FROM by_g WHERE g = 1")).isEqualTo("22.00");
        twins.step("by_g", "UPDATE words SET n = n + 1 WHERE id = 5");
    }

    @Test
    void aNewQueryRebuildsTheFunctionAndSessionsThatPlannedTheOldOneFollow() throws SQLException {
        db.exec("CREATE TABLE src (id int PRIMARY KEY, v int)",
                "INSERT INTO src SELECT g, g FROM generate_series(1, 50) g");
        db.api.create(CreateOptions.of("evolving", "SELECT id, v FROM src WHERE v % 2 = 0").withRefreshMode(RefreshMode.DIFFERENTIAL));
        String firstVersion = functionVersion();
        assertThat(firstVersion).isEqualTo(db.queryString(
                "SELECT apply_version FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'evolving'"));
        try (Connection session = db.connect(); Statement st = session.createStatement()) {
            for (int i = 0; i < 8; i++) {  // past the custom plans: the session keeps a plan
                st.execute("UPDATE src SET v = v + 1 WHERE id = " + (i + 1));
                st.execute("CALL pgtrickle.refresh_stream_table('evolving')");
                db.assertOracle("evolving");
            }
            db.api.createOrReplace(CreateOptions.of("evolving", "SELECT id, v * 10 AS v FROM src WHERE v % 3 = 0")
                    .withRefreshMode(RefreshMode.DIFFERENTIAL));
            assertThat(functionVersion()).isNotEqualTo(firstVersion);  // rebuilt by the replacement's first refresh
            st.execute("UPDATE src SET v = v + 1 WHERE id > 40");
            st.execute("CALL pgtrickle.refresh_stream_table('evolving')");
            assertThat(db.queryString("SELECT action FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s"
                    + " USING (pgt_id) WHERE s.pgt_name = 'evolving' ORDER BY refresh_id DESC LIMIT 1")).isEqualTo("DIFFERENTIAL");
            db.assertOracle("evolving");
            assertThat(db.queryLong("SELECT max(v) FROM evolving")).isEqualTo(510);
        }
        assertThat(db.queryLong("SELECT count(*) FROM pg_proc WHERE proname = 'apply_' || (SELECT pgt_id FROM"
                + " pgtrickle.pgt_stream_tables WHERE pgt_name = 'evolving')")).isEqualTo(1);
        db.api.drop("evolving", false);
        assertThat(db.queryLong("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                + " WHERE n.nspname = 'pgtrickle_changes' AND p.proname LIKE 'apply\\_%'")).isZero();
    }

    private String functionVersion() {
        return db.queryString("SELECT obj_description(p.oid, 'pg_proc') FROM pg_proc p"
                + " WHERE p.proname = 'apply_' || (SELECT pgt_id FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'evolving')");
    }
}
