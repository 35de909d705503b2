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
 * Grouped subqueries (GROUP BY, aggregates, DISTINCT) below the top of the query, common table
 * expressions, subqueries in the select list and HAVING of an aggregate query, column alias lists,
 * ORDER BY without LIMIT and interval field qualifiers: every scenario is maintained in DIFFERENTIAL and IMMEDIATE with a
 * FULL twin, all checked against the query (IMMEDIATE after every statement).
 */
class NestedQueriesTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(NestedQueriesTest.class);
        twins = new Twins(db).withImmediate();
        ShopFixture.create(db);
        db.exec("CREATE TABLE events (id int PRIMARY KEY, at date, span interval)",
                "INSERT INTO events VALUES (1, '2019-12-01', '1 day'), (2, '2020-02-15', '2 months'), (3, '2020-05-01', NULL)");
    }

    /** Groups appearing, emptying and moving; NULL keys; duplicates on the keyless table; dates moving. */
    private void churn(String name) {
        ShopFixture.churn(twins, name, "INSERT INTO events VALUES (4, '2020-03-31', '1 year')", "UPDATE events SET at = at + 40",
                "DELETE FROM events WHERE id = 1");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT t.customer, t.total FROM (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer) t",
            "SELECT c.name, t.total, t.n FROM customers c JOIN (SELECT customer, sum(amount) AS total, count(*) AS n FROM orders GROUP BY customer) t ON t.customer = c.id",
            "SELECT c.id, t.n FROM customers c LEFT JOIN (SELECT customer, count(*) AS n FROM orders GROUP BY customer) t ON t.customer = c.id",
            "SELECT t.customer, c.name FROM (SELECT customer, count(*) AS n FROM orders GROUP BY customer) t LEFT JOIN customers c ON c.id = t.customer",
            "SELECT n, count(*) AS customers FROM (SELECT c.id, count(o.id) AS n FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.id) x GROUP BY n",
            "SELECT x.k, x.cnt FROM (SELECT customer, count(*) FROM orders GROUP BY customer) x(k, cnt) WHERE x.cnt > 1",
            "SELECT x.customer FROM (SELECT customer FROM orders GROUP BY customer HAVING sum(amount) > 5) x",
            "SELECT o.id, o.amount, t.total FROM orders o CROSS JOIN (SELECT sum(amount) AS total, count(*) AS n FROM orders) t",
            "SELECT d.customer, c.name FROM (SELECT DISTINCT customer FROM notes) d JOIN customers c ON c.id = d.customer",
            "SELECT customer, count(*) AS n FROM orders GROUP BY customer UNION ALL SELECT customer, count(*) FROM notes GROUP BY customer",
            "SELECT max(t.total) AS top, count(*) AS groups FROM (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer) t",
            "SELECT d.customer, d.kind FROM (SELECT DISTINCT o.customer, 7 AS kind, 2.5 AS half FROM orders o) d",
            "SELECT t.region, t.n FROM (SELECT c.region, count(*) AS n FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.region) t",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT t.customer FROM (SELECT customer, count(*) AS n FROM orders GROUP BY customer) t WHERE t.n > 1)",
            "SELECT x.a FROM (SELECT id, name FROM customers) x(a, b) WHERE x.b <> 'zed'"})
    void groupedSubqueries(String query) {
        twins.define("gs", query);
        churn("gs");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "WITH t AS (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer) "
                    + "SELECT c.name, t.total FROM customers c JOIN t ON t.customer = c.id WHERE t.total = (SELECT max(total) FROM t)",
            "WITH big AS (SELECT * FROM orders WHERE amount > 2), c AS (SELECT id, name FROM customers) "
                    + "SELECT c.name, big.amount FROM c JOIN big ON big.customer = c.id",
            "WITH a AS (SELECT customer, amount FROM orders), b AS (SELECT customer, sum(amount) AS s FROM a GROUP BY customer) SELECT * FROM b",
            "WITH t(k, n) AS (SELECT customer, count(*) FROM orders GROUP BY customer) SELECT k, n FROM t",
            "WITH t AS (SELECT customer, count(*) AS n FROM orders GROUP BY customer) "
                    + "SELECT a.customer, b.customer AS other FROM t a JOIN t b ON a.n = b.n AND a.customer < b.customer",
            "WITH t AS MATERIALIZED (SELECT id, region FROM customers) SELECT region, count(*) AS n FROM t GROUP BY region",
            "WITH unused AS (SELECT * FROM notes) SELECT id, name FROM customers"})
    void commonTableExpressions(String query) {
        twins.define("cte", query);
        churn("cte");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer HAVING sum(amount) > (SELECT avg(amount) FROM orders)",
            "SELECT c.region, count(*) AS n, (SELECT count(*) FROM orders) AS all_orders FROM customers c GROUP BY c.region",
            "SELECT o.customer, count(*) AS n, (SELECT max(c.name) FROM customers c WHERE c.id = o.customer) AS name FROM orders o GROUP BY o.customer",
            "SELECT count(*) AS n FROM orders HAVING count(*) > (SELECT count(*) FROM customers)",
            "SELECT o.customer, sum(o.amount) AS s FROM orders o GROUP BY o.customer HAVING EXISTS (SELECT 1 FROM notes n WHERE n.customer = o.customer)",
            "SELECT sum(amount) * 100 / (SELECT sum(amount) FROM orders) AS pct, customer FROM orders GROUP BY customer"})
    void subqueriesInTheSelectListAndHavingOfAnAggregate(String query) {
        twins.define("sa", query);
        churn("sa");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT id FROM events WHERE at < DATE '2020-01-01' + INTERVAL '3' MONTH",
            "SELECT id, at + INTERVAL '1' DAY AS next, span + INTERVAL '2:30' HOUR TO MINUTE AS later FROM events",
            "SELECT count(*) AS n FROM events WHERE at >= DATE '2020-01-01' - INTERVAL '1' YEAR AND span < INTERVAL '90' DAY AND span <> INTERVAL '1.25' SECOND (1)"})
    void intervalFieldQualifiers(String query) {
        twins.define("iv", query);
        churn("iv");
    }

    /** The engine's alias for the affected groups was "a", which shadowed a FROM item of that name: the query fell back to FULL. */
    @Test
    void aGroupRecomputeOverAnItemAliasedAIsDifferential() {
        twins.define("al", "SELECT a.customer, string_agg(a.note, ',' ORDER BY a.note) AS notes FROM notes a GROUP BY a.customer");
        churn("al");
    }

    /** Shrunk by RandomQueryTest: an average over numeric values of mixed scales from a grouped item (hidden running sum 1.00 against 1.0). */
    @Test
    void anAverageOverAGroupedItemKeepsTheScaleOfItsValues() {
        db.exec("CREATE TABLE t0 (id int, c1 numeric)", "INSERT INTO t0 VALUES (4, -1.0), (6, -1.0), (3, 2.25)",
                "CREATE TABLE t1 (id int, c1 int)", "INSERT INTO t1 VALUES (1, NULL), (6, 2), (1, 2)");
        twins.define("avg", "SELECT a1.id AS g1, a1.c1 AS g2, count((a3.k1 * 2)) AS a1, avg(coalesce(a3.k1, 0.5)) AS a2, "
                + "min(a1.id) AS a3 FROM t1 a1 RIGHT JOIN t1 a2 ON a1.c1 = a2.c1 CROSS JOIN (SELECT s1.id AS k0, sum(s1.c1) AS k1, "
                + "count(*) AS n1 FROM t0 s1 GROUP BY s1.id) a3 GROUP BY a1.id, a1.c1");
        twins.step("avg", "INSERT INTO t0 VALUES (3, 1.5)");
        twins.step("avg", "UPDATE t0 SET c1 = 1.5 WHERE c1 IS NOT DISTINCT FROM 0", "INSERT INTO t0 VALUES (6, 2.25)",
                "DELETE FROM t0 WHERE ctid IN (SELECT ctid FROM t0 WHERE id = 4 LIMIT 1)", "DELETE FROM t0 WHERE c1 IS NOT DISTINCT FROM 2.25",
                "INSERT INTO t1 VALUES (6, 3)");
    }

    /**
     * Found by review: a grouped subquery's previous state is rebuilt from the sources, and a group
     * of numeric 1.0 and 1.00 may come back as either; the row emitted before would then never be
     * subtracted. Such subqueries (and order-dependent aggregates) are maintained by FULL, with the
     * reason; a declared scale makes the text unique, and DIFFERENTIAL maintains them.
     */
    @Test
    void groupedSubqueriesThatCannotBeRebuiltTextForTextFallBackToFull() {
        db.exec("CREATE TABLE o2 (id int PRIMARY KEY, amount numeric, fixed numeric(10, 2), f float8)",
                "INSERT INTO o2 VALUES (1, 1.0, 1.0, 1), (2, 1.00, 1.00, 1e16), (3, 2, 2, -1e16)");
        for (String[] q : new String[][] {
                {"numeric", "SELECT x.a, x.n FROM (SELECT amount AS a, count(*) AS n FROM o2 GROUP BY amount) x"},
                {"numeric", "SELECT x.a FROM (SELECT DISTINCT amount AS a FROM o2) x", "nr_distinct"},
                {"min", "SELECT x.k, x.m FROM (SELECT id % 2 AS k, min(amount) AS m FROM o2 GROUP BY id % 2) x"},
                {"sum() over double precision", "SELECT x.s FROM (SELECT sum(f) AS s FROM o2) x"},
                {"string_agg", "SELECT x.k, x.ids FROM (SELECT id % 2 AS k, string_agg(id::text, ',') AS ids FROM o2 GROUP BY id % 2) x"}}) {
            String name = q.length > 2 ? q[2] : "nr_" + q[0].replaceAll("\\W", "");
            db.api.create(io.pgtrickle.core.api.CreateOptions.of(name, q[1]));
            assertThat(db.api.explain(name, ExplainFormat.TEXT)).as(q[1]).contains("depends on the order rows are read in").contains(q[0]);
            db.assertOracle(name);
        }
        db.exec("DELETE FROM o2 WHERE id = 1");
        for (String n : new String[] {"nr_numeric", "nr_distinct", "nr_min", "nr_sumoverdoubleprecision", "nr_string_agg"}) {
            db.api.refresh(n);
            db.assertOracle(n);
        }
        twins.define("fixed", "SELECT x.a, x.n, x.lo FROM (SELECT fixed AS a, count(*) AS n, min(fixed) AS lo FROM o2 GROUP BY fixed) x");
        twins.step("fixed", "INSERT INTO o2 VALUES (4, 1.000, 1.000, 0)", "DELETE FROM o2 WHERE id = 2");
    }

    /**
     * Found by review: jsonb prints equal values as written ('1.0' = '1.00'), and text of a
     * nondeterministic collation as stored ('a' = 'A'), so a group keyed by either was rebuilt with
     * whichever text the previous state read first: after the key of the first row moved, the stored
     * group kept (1.0, 2) while the query gave (1.00, 2). Both fall back to FULL with the reason.
     */
    @Test
    void groupedSubqueriesKeyedByJsonbOrANondeterministicCollationFallBackToFull() {
        db.exec("CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)",
                "CREATE TABLE jt (id int PRIMARY KEY, body jsonb, name text COLLATE ci)",
                "INSERT INTO jt VALUES (1, '1.0', 'a'), (2, '1.00', 'A'), (3, '2', 'b')");
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("by_json",
                "SELECT x.b::text AS b, x.n FROM (SELECT body AS b, count(*) AS n FROM jt GROUP BY body) x"));
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("by_name",
                "SELECT x.nm::text AS nm, x.n FROM (SELECT name AS nm, count(*) AS n FROM jt GROUP BY name) x"));
        assertThat(db.api.explain("by_json", ExplainFormat.TEXT)).contains("FULL").contains("column jt.body of type jsonb");
        assertThat(db.api.explain("by_name", ExplainFormat.TEXT)).contains("FULL")
                .contains("column jt.name of type text in a nondeterministic collation");
        db.exec("UPDATE jt SET id = 10 WHERE id = 1"); // the previous state reads id 2 first now
        for (String st : new String[] {"by_json", "by_name"}) {
            db.api.refresh(st);
            db.assertOracle(st);
        }
    }

    /** Found by review: a volatile CTE is evaluated once; inlined, it would be evaluated per reference. */
    @Test
    void aVolatileCommonTableExpressionIsNotInlined() {
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("vol",
                "WITH r AS (SELECT id, random() AS x FROM customers) SELECT count(*) AS n FROM r a JOIN r b ON a.x = b.x"));
        assertThat(db.queryLong("SELECT n FROM vol")).isEqualTo(4);
        db.exec("INSERT INTO customers VALUES (7, 'g', 'eu')");
        db.api.refresh("vol");
        assertThat(db.queryLong("SELECT n FROM vol")).isEqualTo(5);
    }

    /** Found by review: the tables of a subquery inside an aggregate's argument were not seen as inputs. */
    @Test
    void aSubqueryInsideAnAggregateArgumentFallsBackToFull() {
        String query = "SELECT t.k, t.n FROM (SELECT o.customer AS k, sum(CASE WHEN o.customer IN (SELECT n.customer FROM notes n)"
                + " THEN 1 ELSE 0 END) AS n FROM orders o GROUP BY o.customer) t";
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("sa", query));
        assertThat(db.api.explain("sa", ExplainFormat.TEXT)).contains("a subquery inside the arguments or FILTER of aggregate sum");
        db.exec("INSERT INTO notes VALUES (2, 'n')");
        db.api.refresh("sa");
        db.assertOracle("sa");
    }

    /** Found by review: grouped by a primary key, a subquery's other columns of that table cannot be read from its previous state. */
    @Test
    void aGroupedSubqueryReadingColumnsThatDependOnItsKeyFallsBackWithTheReason() {
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("pk", "SELECT * FROM (SELECT c.id, c.name, count(*) AS n, "
                + "(SELECT count(*) FROM notes) AS all_notes FROM customers c JOIN orders o ON o.customer = c.id GROUP BY c.id) t"));
        assertThat(db.api.explain("pk", ExplainFormat.TEXT)).contains("is not a GROUP BY expression").doesNotContain("internal");
        db.assertOracle("pk");
    }

    /** Found by review: a CTE inside a view is refused by name, and never mistaken for a relation of that name. */
    @Test
    void aCommonTableExpressionInsideAViewFallsBackWithTheReason() {
        db.exec("CREATE VIEW y AS SELECT 1 AS one", "CREATE VIEW with_cte AS WITH y AS (SELECT id FROM customers) SELECT id FROM y");
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("wv", "SELECT id FROM with_cte"));
        assertThat(db.api.explain("wv", ExplainFormat.TEXT)).contains("WITH");
        db.assertOracle("wv");
    }

    /** Found by review: 10^(12·scale) overflowed numeric for values of more than about 10,900 decimal digits. */
    @Test
    void aNumericSumOverValuesOfHugeScaleStaysExact() {
        db.exec("CREATE TABLE huge (k int, x numeric)", "INSERT INTO huge VALUES (1, 0.5), (1, '1e-1100'::numeric)");
        twins.define("hs", "SELECT k, sum(x) AS s, avg(x) AS a FROM huge GROUP BY k");
        twins.step("hs", "DELETE FROM huge WHERE x = 0.5", "INSERT INTO huge VALUES (2, '1e-12000'::numeric), (2, 3)");
        twins.step("hs", "DELETE FROM huge WHERE x < 0.001");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT id, name FROM customers ORDER BY name DESC, id",
            "SELECT region, count(*) AS n FROM customers GROUP BY region HAVING count(*) > 0 ORDER BY n DESC, region",
            "SELECT t.customer, t.total FROM (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer ORDER BY 2) t ORDER BY 1",
            "SELECT DISTINCT customer FROM notes ORDER BY customer",
            "SELECT id FROM orders UNION ALL SELECT id FROM customers ORDER BY 1",
            "WITH t AS (SELECT customer FROM orders ORDER BY customer) SELECT customer, count(*) AS n FROM t GROUP BY customer ORDER BY n"})
    void orderByWithoutLimitIsIgnored(String query) {
        twins.define("ob", query);
        churn("ob");
    }

    @Test
    void aLimitBelowTheTopIsRecomputedWhenItsTableChanged() {
        twins.define("top3", "SELECT t.id FROM (SELECT id, amount FROM orders ORDER BY amount DESC, id LIMIT 3) t WHERE t.id > 0");
        assertThat(db.api.explain("top3", ExplainFormat.TEXT)).contains("RecomputedSubquery with LIMIT");
        churn("top3");
    }

    @Test
    void explainNamesTheGroupedSubqueryAndItsStrategy() {
        twins.define("ex", "SELECT c.name, t.total FROM customers c JOIN (SELECT customer, sum(amount) AS total FROM orders GROUP BY customer) t ON t.customer = c.id");
        String text = db.api.explain("ex", ExplainFormat.TEXT);
        assertThat(text).contains("Aggregate GROUP BY").contains("group recompute");
    }

    @Test
    void recursiveCommonTableExpressionsFallBackToFullWithTheReason() {
        db.api.create(io.pgtrickle.core.api.CreateOptions.of("rec",
                "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT c.id FROM customers c JOIN r ON r.n = c.id"));
        assertThat(db.api.explain("rec", ExplainFormat.TEXT)).contains("WITH RECURSIVE");
        db.assertOracle("rec");
    }
}
