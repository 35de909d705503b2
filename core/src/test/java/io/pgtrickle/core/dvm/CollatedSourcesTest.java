package io.pgtrickle.core.dvm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Twins;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A source column's collation decides how the changed rows are compared, as it decides for the
 * source's rows in the defining query: the change buffer's view carries it. Under the database's
 * default a refresh kept 'Zoe' below 'b' where ICU's English order puts it above (and the reverse
 * for the "C" column, whichever the default is), and told 'RED' from 'red' under a case-blind
 * (nondeterministic) collation. Checked in DIFFERENTIAL, FULL and IMMEDIATE against the query after
 * each step.
 */
class CollatedSourcesTest {
    private Db db;
    private Twins twins;

    @BeforeEach
    void setUp() {
        db = Db.create(CollatedSourcesTest.class);
        twins = new Twins(db).withImmediate();
        db.createCaseBlindCollation();
        db.exec("CREATE TABLE words (id int PRIMARY KEY, name text COLLATE \"en-x-icu\", code text COLLATE \"C\", n int, "
                        + "tag text COLLATE public.case_blind)",
                "INSERT INTO words VALUES (1, 'apple', 'apple', 1, 'red'), (2, 'Zed', 'Zed', 2, 'Red'), (3, 'cherry', 'cherry', 3, 'blue')");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT id, name FROM words WHERE name < 'b'",
            "SELECT id, code FROM words WHERE code < 'b'",
            "SELECT min(name) AS lo, max(name) AS hi, max(code) AS code_hi, count(*) AS n FROM words",
            "SELECT n % 2 AS odd, max(name) AS hi, min(code) AS code_lo FROM words GROUP BY n % 2",
            "SELECT id, name FROM words ORDER BY name LIMIT 2",
            "SELECT w.id, v.id AS other FROM words w JOIN words v ON w.name < v.name AND v.code < w.code",
            // case-blind: 'RED' is 'red', and a change from one to the other is still a change of the row
            "SELECT id, tag, n FROM words WHERE tag = 'red'",
            "SELECT id, name FROM words WHERE tag IN ('RED', 'green')",
            "SELECT count(*) AS n, sum(n) AS total FROM words WHERE tag <> 'blue'",
            "SELECT lower(tag) AS t, count(*) AS n, max(name) AS hi FROM words GROUP BY lower(tag)"})
    void changedRowsCompareUnderTheSourceColumnsCollation(String query) {
        twins.define("collated", query);
        // The captured ones of name and code (a query may read only one) carry the source's collation.
        assertThat(db.queryString("SELECT string_agg(a.attname || ':' || (a.attcollation = s.attcollation), ',') FROM pg_attribute a"
                + " JOIN pgtrickle.pgt_change_tracking ct ON a.attrelid = to_regclass(ct.buffer_table)"
                + " JOIN pg_attribute s ON s.attrelid = ct.source_relid AND s.attname = a.attname"
                + " WHERE ct.source_relid = 'words'::regclass AND a.attname IN ('name', 'code', 'tag')"))
                .contains(":true").doesNotContain(":false");
        twins.step("collated", "INSERT INTO words VALUES (4, 'Zoe', 'Zoe', 4, 'RED'), (5, 'banana', 'banana', 5, 'Green'),"
                + " (6, 'Apple', 'Apple', 6, 'blue')");
        twins.step("collated", "UPDATE words SET name = 'Abe', code = 'Abe', tag = 'rEd' WHERE id = 3",
                "UPDATE words SET name = 'zulu', code = 'zulu' WHERE id = 1", "DELETE FROM words WHERE id = 2");
        twins.step("collated", "UPDATE words SET name = upper(name), code = lower(code), tag = upper(tag)",
                "INSERT INTO words VALUES (7, 'aardvark', 'Aardvark', 7, 'BLUE')", "DELETE FROM words WHERE id = 6");
    }
}
