package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.StreamTables.ExplainFormat;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import java.util.function.Consumer;
import org.assertj.core.api.AbstractStringAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Outer joins, USING and NATURAL joins, semi and anti joins, scalar subqueries: every scenario is
 * a DIFFERENTIAL stream table with a FULL twin, both checked against the query after each step.
 */
class OuterJoinsAndSubqueriesTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(OuterJoinsAndSubqueriesTest.class);
        twins = new Twins(db);
        ShopFixture.create(db);
        db.exec("CREATE VIEW big_orders AS SELECT id, customer, amount FROM orders WHERE amount > 2");
    }

    /** The same changes for every shape: partners coming and going on both sides, keys moving, NULL keys. */
    private void churn(String name) {
        ShopFixture.churn(twins, name);
    }

    /** One more step for {@link ShopFixture#churn}: notes of a customer without any, a NULL one, an order finding its customer. */
    private static final String[] MORE_PARTNERS = {"INSERT INTO notes VALUES (4, 'n'), (NULL, 'm')", "UPDATE orders SET customer = 3 WHERE id = 13"};

    /** Defines {@code name} in DIFFERENTIAL, FULL and IMMEDIATE and checks its differential refresh SQL with {@code sql}. */
    private Twins defineAll(String name, String query, Consumer<AbstractStringAssert<?>> sql) {
        Twins all = twins.withImmediate();
        all.define(name, query);
        sql.accept(assertThat(db.queryStrings("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '"
                + name + "'").get(0)));
        return all;
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id, c.name, o.id AS oid, o.amount FROM customers c LEFT JOIN orders o ON o.customer = c.id",
            "SELECT c.id, o.id AS oid FROM orders o RIGHT JOIN customers c ON o.customer = c.id",
            "SELECT c.id, c.name, o.id AS oid, o.amount FROM customers c FULL JOIN orders o ON o.customer = c.id",
            "SELECT c.id, coalesce(o.amount, -1) AS amount, o.id IS NULL AS lonely FROM customers c LEFT JOIN orders o ON o.customer = c.id",
            "SELECT c.id FROM customers c LEFT JOIN orders o ON o.customer = c.id WHERE o.id IS NULL",
            "SELECT c.id, o.id AS oid, n.note FROM customers c LEFT JOIN orders o ON o.customer = c.id LEFT JOIN notes n ON n.customer = o.customer",
            "SELECT c.id, o.id AS oid, n.note FROM customers c LEFT JOIN orders o ON o.customer = c.id JOIN notes n ON n.customer = c.id",
            "SELECT c.id, o.id AS oid, n.note FROM customers c LEFT JOIN (orders o JOIN notes n ON n.customer = o.customer) ON o.customer = c.id",
            "SELECT c.id, o.id AS oid, n.note FROM customers c FULL JOIN orders o ON o.customer = c.id LEFT JOIN notes n ON n.customer = c.id",
            "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN orders o ON o.customer = c.id AND o.amount > 4",
            "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN orders o ON true",
            "SELECT a.id, b.id AS bid FROM customers a LEFT JOIN customers b ON a.region = b.region AND a.id < b.id",
            "SELECT n.note, c.name FROM notes n FULL JOIN customers c ON c.id = n.customer"})
    void outerJoins(String query) {
        twins.define("oj", query);
        churn("oj");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.region, count(o.id) AS n, sum(o.amount) AS total, count(*) AS rows FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.region",
            "SELECT c.id, sum(o.amount) AS total, min(o.amount) AS lo, max(o.amount) AS hi FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.id",
            "SELECT o.customer, count(c.id) AS matched FROM customers c FULL JOIN orders o ON o.customer = c.id GROUP BY o.customer",
            "SELECT DISTINCT c.region FROM customers c LEFT JOIN orders o ON o.customer = c.id WHERE o.id IS NULL"})
    void outerJoinsUnderAggregatesAndDistinct(String query) {
        twins.define("oa", query);
        churn("oa");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT customer, o.amount, n.note FROM orders o JOIN notes n USING (customer)",
            "SELECT customer, o.amount, n.note FROM orders o LEFT JOIN notes n USING (customer)",
            "SELECT customer, o.amount, n.note FROM orders o FULL JOIN notes n USING (customer)",
            "SELECT * FROM orders NATURAL JOIN (SELECT customer, note FROM notes) n",
            "SELECT * FROM notes NATURAL LEFT JOIN (SELECT id AS customer, name FROM customers) c"})
    void usingAndNaturalJoins(String query) {
        twins.define("uj", query);
        churn("uj");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id, c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id)",
            "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id AND o.amount > 2)",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT customer FROM orders)",
            "SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT customer FROM orders)",
            "SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT customer FROM orders WHERE customer IS NOT NULL)",
            "SELECT c.id FROM customers c WHERE c.id = ANY (SELECT customer FROM notes)",
            "SELECT c.id FROM customers c WHERE c.id <> ALL (SELECT customer FROM notes)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders)",
            "SELECT c.id FROM customers c WHERE c.region = 'eu' OR EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id) AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT o.id FROM orders o WHERE o.customer IN (SELECT c.id FROM customers c WHERE c.region = 'eu' AND EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id))",
            "SELECT o.id, o.amount FROM orders o WHERE o.amount > (SELECT avg(amount) FROM orders)",
            "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n, (SELECT max(amount) FROM orders) AS top FROM customers c",
            "SELECT c.id, (SELECT string_agg(n.note, ',' ORDER BY n.note) FROM notes n WHERE n.customer = c.id) AS notes FROM customers c",
            "SELECT c.region, count(*) AS n FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id) GROUP BY c.region",
            "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN orders o ON o.customer = c.id WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM big_orders b WHERE b.customer = c.id)",
            "SELECT c.id, b.amount FROM customers c LEFT JOIN big_orders b ON b.customer = c.id",
            "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer = c.id) * 2 AS n2, (SELECT max(amount) FROM orders)::text AS top FROM customers c",
            "SELECT c.id FROM customers c WHERE (SELECT count(*) FROM notes n WHERE n.customer = c.id) - 1 >= 0 AND (SELECT min(o.amount) FROM orders o WHERE o.customer = c.id) IS NOT NULL",
            // found by RandomQueryTest: PostgreSQL prints the bigint sum cast, ((SELECT sum(o.id) ...))::numeric + (...)
            "SELECT c.id, ((SELECT sum(o.id) FROM orders o) + (SELECT avg(o2.amount) FROM orders o2 WHERE o2.customer = c.id)) AS x FROM customers c",
            // found in review: a subquery that reads no table made the refresh SQL fail to plan (refused)
            "SELECT c.id, (SELECT 1) AS one, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n FROM customers c",
            "SELECT c.id, c.name FROM customers c WHERE (SELECT 2) > 1 AND c.id > (SELECT 1)"})
    void semiAntiAndScalarSubqueries(String query) {
        twins.define("sq", query);
        churn("sq");
    }

    /**
     * A subquery is evaluated for a row only against the state that row is in. A row that left
     * k = 5 while a second tag of 5 arrived is not looked up among the new tags (21000, more than
     * one row), nor the row it became (k = 6) among the old tags, of which 6 had two; a count is not
     * taken where it is zero, and divided by, for a row that was never there; and with two
     * subqueries, a row is not looked up among the old tags because the new flags pass it (found in
     * review: the units were telescoped one at a time). The telescoping delta failed every refresh
     * here; and the FULL refresh that populates {@code flagged} failed too, its select list computed
     * before its WHERE as the outer side of the MERGE's full join.
     */
    @Test
    void aSubqueryIsEvaluatedOnlyAgainstTheStateOfItsRow() {
        db.exec("CREATE TABLE tt (id int PRIMARY KEY, k int)", "INSERT INTO tt VALUES (1, 5), (2, 7)",
                "CREATE TABLE tag2 (k int, label text)", "INSERT INTO tag2 VALUES (5, 'a'), (6, 'b'), (6, 'b2'), (8, 'c')",
                "CREATE TABLE tq (id int PRIMARY KEY, k int)", "INSERT INTO tq VALUES (1, 5)",
                "CREATE TABLE tag3 (k int)", "INSERT INTO tag3 VALUES (5), (6)",
                "CREATE TABLE t2 (id int PRIMARY KEY, k int)", "INSERT INTO t2 VALUES (1, 5), (2, 6)",
                "CREATE TABLE tag4 (k int, label text)", "INSERT INTO tag4 VALUES (5, 'a'), (5, 'b'), (6, 'c')",
                "CREATE TABLE flag (k int)", "INSERT INTO flag VALUES (6)");
        Twins all = twins.withImmediate();
        all.define("in_list", "SELECT id, (SELECT label FROM tag2 g WHERE g.k = tt.k) AS label FROM tt");
        all.define("in_where", "SELECT id, k FROM tt WHERE (SELECT label FROM tag2 g WHERE g.k = tt.k) IS DISTINCT FROM 'zz'");
        all.define("division", "SELECT id, 10 / (SELECT count(*) FROM tag3 g WHERE g.k = tq.k) AS r FROM tq");
        all.define("flagged", "SELECT id, (SELECT label FROM tag4 g WHERE g.k = t2.k) AS label FROM t2"
                + " WHERE EXISTS (SELECT 1 FROM flag f WHERE f.k = t2.k)");
        // each statement leaves a state the queries hold in (IMMEDIATE checks them one by one)
        all.step("in_list", "DELETE FROM tag2 WHERE label = 'b2'", "UPDATE tt SET k = 6 WHERE id = 1",
                "INSERT INTO tag2 VALUES (5, 'a2')");
        all.step("in_where");
        assertThat(db.queryStrings("SELECT label FROM in_list ORDER BY id")).containsExactly("b", null);
        // the row moves back; its old and new partners change in the same window
        all.step("in_list", "DELETE FROM tag2 WHERE label = 'a2'", "UPDATE tt SET k = 5 WHERE id = 1",
                "INSERT INTO tag2 VALUES (6, 'b3')", "UPDATE tt SET id = 3 WHERE id = 2");
        all.step("in_where");
        all.step("division", "UPDATE tq SET k = 6", "DELETE FROM tag3 WHERE k = 5");
        all.step("division", "INSERT INTO tag3 VALUES (7)", "UPDATE tq SET k = 7", "DELETE FROM tag3 WHERE k = 6");
        assertThat(db.queryStrings("SELECT r::text FROM division")).containsExactly("10");
        all.step("flagged", "DELETE FROM tag4 WHERE label = 'b'", "INSERT INTO flag VALUES (5)");
        all.step("flagged", "DELETE FROM flag WHERE k = 5", "INSERT INTO tag4 VALUES (5, 'b2')", "UPDATE t2 SET k = 5 WHERE id = 2");
        assertThat(db.queryStrings("SELECT id::text FROM flagged")).isEmpty();
    }

    /**
     * An EXISTS (or NOT EXISTS) that is a conjunct of WHERE and equates an indexed column with the
     * outer row is evaluated, for the rows a change can matter to, as an index probe per row against
     * the table's previous state (keyed orders, keyless notes): beside another subquery, under
     * GROUP BY, over joins and outer joins, two over one table, quoted names, and text before it
     * whose upper case is longer (ß). IMMEDIATE maintenance runs the same SQL.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id, c.name FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id)",
            "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id AND o.amount > 2)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM notes n WHERE c.id = n.customer AND n.note <> 'x')",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id) AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.region, count(*) AS n FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id) GROUP BY c.region",
            "SELECT c.id, o.id AS oid FROM customers c JOIN orders o ON o.customer = c.id WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer = o.customer)",
            "SELECT customer, o.amount FROM orders o JOIN customers c ON c.id = o.customer WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id, n.note FROM customers c LEFT JOIN notes n ON n.customer = c.id WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id AND o.amount > 2)"
                    + " AND NOT EXISTS (SELECT 1 FROM orders o2 WHERE o2.customer = c.id AND o2.amount > 8)",
            "SELECT \"C\".id FROM customers \"C\" WHERE EXISTS (SELECT 1 FROM orders \"O\" WHERE \"O\".customer = \"C\".id)",
            "SELECT c.id FROM customers c WHERE c.name <> 'Straße ßß ﬁ' AND EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id)"})
    void semiAndAntiJoinsProbingAnIndex(String query) {
        db.exec("CREATE INDEX ON orders (customer)", "CREATE INDEX ON notes (customer)", "ANALYZE orders", "ANALYZE notes");
        // found by review: the IMMEDIATE twin was made and dropped, never defined
        Twins all = defineAll("ix", query, sql -> sql.contains(" OFFSET 0").contains("CROSS JOIN LATERAL (SELECT (EXISTS"));
        ShopFixture.churn(all, "ix");
    }

    /**
     * A subquery whose only table is equated with columns of the outer row reads that table's
     * changed rows, in the previous state, only for the outer rows whose values are among theirs
     * (shrunk from TPC-H Q20, which scanned every changed line item for each part supplier): scalar
     * subqueries over keyed and keyless tables, nested (an IN over a scalar subquery correlated one
     * level up), two equalities, NOT EXISTS without an index to probe, outer aliases that our own
     * SQL uses (o, c, t, n) and NULL outer values. IMMEDIATE maintenance runs the same SQL.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer = c.id) AS n FROM customers c",
            "SELECT c.id, (SELECT string_agg(n.note, ',' ORDER BY n.note) FROM notes n WHERE n.customer = c.id) AS notes FROM customers c",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT o.customer FROM orders o"
                    + " WHERE o.amount > (SELECT count(*) FROM notes n WHERE n.customer = o.customer))",
            "SELECT c.id, (SELECT sum(o.amount) FROM orders o WHERE o.customer = c.id AND o.id = c.id + 9) AS s FROM customers c",
            "SELECT o.id, (SELECT sum(x.amount) FROM orders x WHERE x.customer = o.customer AND x.id = o.id) AS s FROM orders o",
            "SELECT o.id, (SELECT count(*) FROM notes c WHERE c.customer = o.id) AS n FROM customers o",
            "SELECT t.id, (SELECT max(n.note) FROM notes n WHERE n.customer = t.customer) AS top FROM orders t",
            "SELECT n.note, (SELECT min(o.amount) FROM orders o WHERE o.customer = n.customer) AS lo FROM notes n"})
    void correlatedSubqueriesReadTheChangesOnlyForTheirOuterValues(String query) {
        Twins all = defineAll("co", query, sql -> sql.contains(") __pgt_b WHERE ("));
        ShopFixture.churn(all, "co", MORE_PARTNERS);
    }

    /**
     * Found by review: the subquery of an EXISTS or IN does not read its outer row in its FROM, or
     * PostgreSQL no longer joins it as a semi or anti join but runs it per outer row, each run a scan
     * of the table without an index (174 ms became 75 s on 20,000 rows each side).
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id FROM customers c WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id"
                    + " AND n.note <> (SELECT max(x.note) FROM notes x))",
            "SELECT c.id FROM customers c WHERE c.id = ANY (SELECT n.customer FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT n.customer FROM notes n WHERE n.customer = c.id)"})
    void semiJoinSubqueriesDoNotReadTheOuterRowInTheirFrom(String query) {
        Twins all = defineAll("sj", query, sql -> sql.doesNotContain(") __pgt_b WHERE ("));
        ShopFixture.churn(all, "sj", MORE_PARTNERS);
    }

    /**
     * The limit on a correlated subquery's reads compares {@code outer = inner}, the user's equality
     * swapped: where that operator does not exist ({@code xid = integer} does, {@code integer = xid}
     * does not), the query is compiled again without the limit instead of being refused as
     * DIFFERENTIAL (it had failed to plan); an equality written {@code outer = inner} keeps it.
     */
    @Test
    void aOneWayEqualityIsNotSwapped() {
        db.exec("CREATE TABLE stamps (id int PRIMARY KEY, x xid, v int)",
                "INSERT INTO stamps VALUES (1, '1', 10), (2, '2', 20), (3, '2', 5), (4, NULL, 7)");
        String[] steps = {"UPDATE stamps SET v = v + 1 WHERE id = 2", "INSERT INTO stamps VALUES (5, '3', 1), (6, '1', 40)",
                "UPDATE stamps SET x = '3' WHERE id = 1", "DELETE FROM stamps WHERE id = 3", "UPDATE customers SET id = 7 WHERE id = 2"};
        Twins swapped = defineAll("ow", "SELECT c.id, (SELECT max(s.v) FROM stamps s WHERE s.x = c.id) AS top FROM customers c",
                sql -> sql.doesNotContain(") __pgt_b WHERE ("));
        Twins asWritten = defineAll("ow2", "SELECT s.id, (SELECT max(t.v) FROM stamps t WHERE s.x = t.x) AS top FROM stamps s",
                sql -> sql.contains(") __pgt_b WHERE ("));
        for (String step : steps) {
            swapped.step("ow", step);
            asWritten.step("ow2"); // refreshed and checked after the same statement
        }
    }

    /**
     * An {@code x IN (subquery)} that is a conjunct of WHERE is evaluated over the previous state as
     * an EXISTS per row, computed after the joins (shrunk from TPC-H Q20, whose IN subquery was
     * computed whole over the previous state to answer for a few suppliers): over keyed and keyless
     * tables, with NULLs on either side, an expression on the left, the subquery correlated or
     * grouped, nested INs, beside joins, GROUP BY and another subquery. NOT IN, an IN under OR and an IN whose
     * subquery returns an expression keep their form. IMMEDIATE maintenance runs the same SQL.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT customer FROM orders)",
            "SELECT c.id, c.name FROM customers c WHERE c.region = 'eu' AND c.id IN (SELECT n.customer FROM notes n WHERE n.note <> 'q')",
            "SELECT o.id FROM orders o WHERE o.customer IN (SELECT c.id FROM customers c WHERE c.region = 'eu'"
                    + " AND c.id IN (SELECT n.customer FROM notes n))",
            "SELECT c.id FROM customers c WHERE c.id + 1 IN (SELECT o.customer FROM orders o WHERE o.amount > 2)",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT o.customer FROM orders o WHERE o.amount > c.id)",
            "SELECT c.id, o.id AS oid FROM customers c JOIN orders o ON o.customer = c.id WHERE c.id IN (SELECT n.customer FROM notes n)",
            "SELECT c.region, count(*) AS n FROM customers c WHERE c.id IN (SELECT customer FROM orders) GROUP BY c.region",
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT customer FROM orders)"
                    + " AND EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT o.id FROM orders o WHERE o.customer IN (SELECT n.customer FROM notes n GROUP BY n.customer HAVING count(*) > 1)"})
    void inConjunctsEvaluatedPerRowOverThePreviousState(String query) {
        Twins all = defineAll("inr", query, sql -> sql.contains("__pgt_in(__pgt_v)"));
        ShopFixture.churn(all, "inr", MORE_PARTNERS);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id FROM customers c WHERE c.id NOT IN (SELECT customer FROM orders)",
            "SELECT c.id FROM customers c WHERE c.region = 'us' OR c.id IN (SELECT customer FROM orders)",
            "SELECT c.id, c.id IN (SELECT customer FROM orders) AS ordered FROM customers c",
            "SELECT c.id FROM customers c WHERE (c.id, c.id) IN (SELECT o.customer, o.customer FROM orders o)",
            // found by review: pushed down, the equality would cast notes that are not numbers
            "SELECT c.id FROM customers c WHERE c.id IN (SELECT n.note::int FROM notes n WHERE n.note ~ '^[0-9]+$')"})
    void inOutsideAConjunctKeepsItsForm(String query) {
        Twins all = defineAll("ino", query, sql -> sql.doesNotContain("__pgt_in(__pgt_v)"));
        ShopFixture.churn(all, "ino");
    }

    /** Found by review: an element of an indexed array is not the indexed value, so it is not probed by it. */
    @Test
    void anArrayElementIsNotProbedByTheArraysIndex() {
        db.exec("CREATE TABLE tg (id int PRIMARY KEY, tags int[])", "CREATE INDEX ON tg (tags)",
                "INSERT INTO tg VALUES (1, '{1,2,3}'), (2, '{4}')");
        twins.define("arr", "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM tg o WHERE o.tags[1] = c.id)");
        assertThat(db.queryStrings("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'arr'").get(0))
                .doesNotContain("OFFSET 0");
        twins.step("arr", "DELETE FROM tg WHERE id = 1", "INSERT INTO tg VALUES (3, '{2,1}')");
        twins.step("arr", "UPDATE tg SET tags = '{4,1}' WHERE id = 2", "INSERT INTO tg VALUES (1, '{3}')");
    }

    /**
     * Shrunk from TPC-H Q21, which took over 30 s when the whole WHERE was moved next to the probe:
     * only the EXISTS is computed in the LATERAL subquery; the comma join's conditions stay in WHERE.
     */
    @Test
    void onlyTheProbeLeavesTheWhereOfACommaJoin() {
        db.exec("CREATE INDEX ON notes (customer)");
        twins.define("cj", "SELECT c.id, o.id AS oid FROM customers c, orders o WHERE o.customer = c.id AND c.id > 0"
                + " AND NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = o.customer AND n.note <> 'x')");
        String apply = db.queryStrings("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'cj'").get(0);
        assertThat(apply).contains("CROSS JOIN LATERAL (SELECT (EXISTS").contains("NOT (__pgt_p.__pgt_e0)")
                .contains("(o.customer = c.id) AND (c.id > 0)");
        churn("cj");
    }

    /**
     * Without an index to probe, without an equality to probe it by, or where the rest of the
     * condition decides whether the EXISTS is evaluated at all (OR, CASE: computed apart, the EXISTS
     * would divide by zero here) or outside WHERE, the previous state is joined as before.
     */
    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM orders o WHERE o.customer = c.id)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer > c.id)",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer = 2)",
            "SELECT c.id FROM customers c WHERE c.region = 'eu' OR EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)",
            "SELECT c.id, EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id) AS noted FROM customers c",
            "SELECT c.id FROM customers c WHERE CASE WHEN c.id = 0 THEN false"
                    + " ELSE EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id AND length(n.note) / c.id >= 0) END",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer = ANY (ARRAY[c.id, 0]))",
            "SELECT c.id FROM customers c WHERE EXISTS (SELECT 1 FROM notes n WHERE n.customer = ALL (ARRAY[c.id]))"})
    void semiJoinsWithoutAnIndexToProbe(String query) {
        db.exec("CREATE INDEX ON notes (customer)", "INSERT INTO customers VALUES (0, 'zero', 'eu')", "INSERT INTO notes VALUES (0, 'z')");
        twins.define("nx", query);
        assertThat(db.queryStrings("SELECT diff_apply_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'nx'").get(0))
                .doesNotContain("OFFSET 0");
        ShopFixture.churn(twins, "nx", "INSERT INTO notes VALUES (0, 'y')", "DELETE FROM notes WHERE customer = 0 AND note = 'z'");
    }

    @Test
    void aLeftRowInsertedAndDeletedWhileItsRightPartnerIsDeleted() {
        twins.define("lj", "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN orders o ON o.customer = c.id");
        twins.step("lj", "INSERT INTO customers VALUES (7, 'tmp', 'eu')", "INSERT INTO orders VALUES (70, 7, 1)",
                "DELETE FROM customers WHERE id = 7", "DELETE FROM orders WHERE customer = 1");
        twins.step("lj", "UPDATE customers SET id = 8 WHERE id = 2", "DELETE FROM orders WHERE customer = 2");
        twins.step("lj", "DELETE FROM orders", "DELETE FROM customers");
    }

    /** Shrunk by JoinPropertyTest: the USING column of a RIGHT join is the right input's, not the first item's. */
    @Test
    void aUsingColumnMergedByARightJoinDrivesTheOuterJoinAbove() {
        db.exec("CREATE TABLE b (bid int, k int, w int)", "CREATE TABLE a (aid int PRIMARY KEY, k int, v int)",
                "CREATE TABLE c (cid int PRIMARY KEY, k int, w int)",
                "INSERT INTO b VALUES (4, 2, NULL), (2, NULL, NULL), (2, 0, 4), (2, 1, NULL)",
                "INSERT INTO c VALUES (5, 3, 5), (6, NULL, 4), (3, 0, 3), (1, 1, 5)");
        twins.define("rj", "SELECT t1.k AS c1 FROM b t1 RIGHT JOIN (a t2 RIGHT JOIN c t3 USING (k)) USING (k)");
        twins.step("rj", "UPDATE c SET k = 1 WHERE k = 3", "INSERT INTO b VALUES (3, 1, 0)");
        twins.step("rj", "DELETE FROM b WHERE w IS NULL", "INSERT INTO a VALUES (1, 1, 1)");
        twins.define("fj", "SELECT k, t1.bid, t3.cid FROM b t1 LEFT JOIN (a t2 FULL JOIN c t3 USING (k)) USING (k)");
        twins.step("fj", "INSERT INTO a VALUES (2, 7, 1)", "INSERT INTO b VALUES (9, 7, 1), (9, 0, 1)", "DELETE FROM c WHERE cid = 3");
    }

    /** Shrunk by RandomQueryTest: numeric 2 and 2.0 are equal but distinct rows, with identities that FULL and DIFFERENTIAL agree on. */
    @Test
    void equalNumericsOfDifferentScaleAreDistinctRows() {
        db.exec("CREATE TABLE n (id int, c numeric)", "INSERT INTO n VALUES (1, -1.0), (2, NULL), (1, NULL), (4, 2.25), (3, 0)");
        twins.define("nx", "SELECT 'a' AS o1, (a2.id + a1.c) AS o2 FROM n a1 CROSS JOIN n a2 LEFT JOIN n a3 ON a2.id = a3.id");
        twins.step("nx", "UPDATE n SET c = NULL WHERE id = 3");
        twins.step("nx", "UPDATE n SET c = 1.00 WHERE id = 2", "INSERT INTO n VALUES (3, 0.0)");
    }

    /**
     * Shrunk by JoinPropertyTest: the old state of the preserved side holds a new row twice (+1 and
     * -1); joined to a partner that is gone, the pair cancels, and MAX must not see its value.
     */
    @Test
    void maxOverALeftJoinIgnoresPairsThatCancel() {
        db.exec("CREATE TABLE c (cid int, k int, w int)", "CREATE TABLE a (aid int PRIMARY KEY, k int, v int)",
                "INSERT INTO c VALUES (4, 3, 4)", "INSERT INTO a VALUES (4, 1, 2), (1, 0, 0), (6, 3, 0)");
        twins.define("mx", "SELECT t1.k AS g1, max(t2.k) AS n1, count(*) AS n2, sum(t1.w) AS n3"
                + " FROM c t1 LEFT JOIN a t2 ON t1.k = t2.k AND t1.w > 1 GROUP BY t1.k");
        twins.step("mx", "UPDATE a SET k = NULL WHERE k = 1", "INSERT INTO c VALUES (2, 1, 4)");
        twins.step("mx", "DELETE FROM c WHERE k = 3", "UPDATE a SET k = 1 WHERE aid = 1");
    }

    @Test
    void sumOverAnAllNullGroupIsNullNotZero() {
        twins.define("s", "SELECT c.id, sum(o.amount) AS total, count(o.amount) AS n FROM customers c LEFT JOIN orders o ON o.customer = c.id GROUP BY c.id");
        twins.step("s", "DELETE FROM orders WHERE customer = 1");
        assertThat(db.queryStrings("SELECT coalesce(total::text, 'NULL') FROM s WHERE id = 1")).containsExactly("NULL");
        twins.step("s", "INSERT INTO orders VALUES (30, 1, NULL)");
        assertThat(db.queryStrings("SELECT coalesce(total::text, 'NULL') || '/' || n FROM s WHERE id = 1")).containsExactly("NULL/0");
    }

    @Test
    void explainNamesTheJoinKindsAndStrategies() {
        twins.define("ex", "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN orders o ON o.customer = c.id"
                + " WHERE NOT EXISTS (SELECT 1 FROM notes n WHERE n.customer = c.id)");
        String text = db.api.explain("ex", ExplainFormat.TEXT);
        assertThat(text).contains("LeftJoin c ⋈ o ON", "NULL-padded rows of the preserved rows whose last partner vanished",
                "Filter (NOT (EXISTS", "subqueries: evaluated by PostgreSQL against the state before and after the window");
        // A null-supplying subtree is recomputed for the rows whose partners changed.
        twins.define("ex2", "SELECT c.id, o.id AS oid FROM customers c LEFT JOIN (orders o JOIN notes n ON n.customer = o.customer)"
                + " ON o.customer = c.id");
        assertThat(db.api.explain("ex2", ExplainFormat.TEXT)).contains("rows of the preserved side whose partners changed");
    }
}
