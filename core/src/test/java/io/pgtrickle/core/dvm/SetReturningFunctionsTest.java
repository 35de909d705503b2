package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Set-returning functions in FROM (unnest, jsonb_array_elements, jsonb_each, generate_series, WITH
 * ORDINALITY), joined laterally to a table: maintained in DIFFERENTIAL and IMMEDIATE with a FULL twin,
 * the function evaluated again only for the rows that changed — arrays and documents growing,
 * shrinking, emptying and turning NULL, rows coming and going.
 */
class SetReturningFunctionsTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(SetReturningFunctionsTest.class);
        twins = new Twins(db).withImmediate();
        db.exec("CREATE TABLE docs (id int PRIMARY KEY, tags text[], body jsonb, n int)",
                "CREATE TABLE plain (k int, tags text[])",
                "INSERT INTO docs VALUES (1, '{a,b}', '{\"x\": 1, \"y\": [1, 2]}', 2), (2, '{b}', '[1, 2, 3]', 0), (3, NULL, NULL, NULL)",
                "INSERT INTO plain VALUES (1, '{a,a}'), (1, '{a,a}'), (NULL, '{}')");
    }

    private void churn(String name) {
        twins.step(name, "UPDATE docs SET tags = tags || 'c'::text, n = n + 1 WHERE id = 1", "INSERT INTO docs VALUES (4, '{d,d}', '{\"z\": null}', 3)");
        twins.step(name, "UPDATE docs SET tags = '{}', body = '[]' WHERE id = 2", "DELETE FROM docs WHERE id = 3");
        twins.step(name, "UPDATE docs SET tags = NULL, body = NULL, n = NULL WHERE id = 1", "INSERT INTO plain VALUES (2, '{b,c}')",
                "DELETE FROM plain WHERE k IS NULL");
        twins.step(name, "UPDATE docs SET id = 10 WHERE id = 4", "UPDATE plain SET tags = tags || '{z}'::text[]");
        twins.step(name, "DELETE FROM docs", "INSERT INTO docs VALUES (5, '{e}', '{\"a\": {\"b\": 2}}', 1)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT d.id, t.tag FROM docs d, LATERAL unnest(d.tags) AS t(tag)",
            "SELECT d.id, t.tag, t.pos FROM docs d CROSS JOIN LATERAL unnest(d.tags) WITH ORDINALITY AS t(tag, pos)",
            "SELECT d.id, e.key, e.value FROM docs d, jsonb_each(CASE jsonb_typeof(d.body) WHEN 'object' THEN d.body END) e",
            "SELECT d.id, v.value FROM docs d, jsonb_array_elements(CASE jsonb_typeof(d.body) WHEN 'array' THEN d.body END) v",
            "SELECT d.id, g.i FROM docs d, generate_series(1, d.n) g(i) WHERE g.i <> 2",
            "SELECT d.id, t.tag FROM docs d LEFT JOIN LATERAL unnest(d.tags) t(tag) ON true",
            "SELECT t.tag, count(*) AS n FROM docs d, unnest(d.tags) t(tag) GROUP BY t.tag",
            "SELECT p.k, t.tag FROM plain p, unnest(p.tags) t(tag)",
            "SELECT DISTINCT t.tag FROM plain p, unnest(p.tags) t(tag)",
            "SELECT d.id, x.x FROM docs d, generate_series(1, 2) x(x)",
            // found by review: a column alias equal to the function's alias
            "SELECT d.id, x.a, x.x FROM docs d, unnest(d.tags, d.tags) x(a, x)",
            "SELECT d.id, r.tag, r.i, r.pos FROM docs d, LATERAL ROWS FROM (unnest(d.tags), generate_series(1, d.n)) WITH ORDINALITY AS r(tag, i, pos)",
            // a subquery in the arguments: uncorrelated, correlated, and over another table than the items before it
            "SELECT g.i FROM generate_series(1, (SELECT max(n) FROM docs)) g(i)",
            "SELECT d.id, g.i FROM docs d, generate_series(1, (SELECT count(*) FROM plain p WHERE p.k = d.id)::int) g(i)",
            "SELECT p.k, t.tag FROM plain p, unnest((SELECT d.tags FROM docs d WHERE d.id = p.k)) t(tag)"})
    void setReturningFunctions(String query) {
        twins.define("srf", query);
        churn("srf");
    }

    @Test
    void explainNamesTheFunctionAndHowItIsMaintained() {
        twins.define("ex", "SELECT d.id, t.tag FROM docs d, unnest(d.tags) t(tag)");
        assertThat(db.api.explain("ex", ExplainFormat.TEXT)).contains("Function unnest(d.tags)")
                .contains("evaluated laterally for the rows each term reads");
    }

    /** Found by review: a column definition list was lost (an "internal" plan failure); now FULL with the reason. */
    @Test
    void aFunctionWithAColumnDefinitionListFallsBackToFullWithTheReason() {
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("rec",
                "SELECT d.id, r.a FROM docs d, jsonb_to_recordset(CASE jsonb_typeof(d.body) WHEN 'array' THEN '[{\"a\": 1}]'::jsonb END) r(a int)"));
        assertThat(db.api.explain("rec", ExplainFormat.TEXT)).contains("column definition list").doesNotContain("internal");
        db.exec("UPDATE docs SET body = '[]' WHERE id = 1");
        db.api.refresh("rec");
        db.assertOracle("rec");
    }

    @Test
    void aFunctionOfConstantsAloneNeverChanges() {
        twins.define("gs", "SELECT g.i FROM generate_series(1, 3) g(i)");
        twins.step("gs", "INSERT INTO docs VALUES (9, NULL, NULL, NULL)");
    }
}
