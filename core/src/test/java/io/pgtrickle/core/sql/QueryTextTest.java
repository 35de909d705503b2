package io.pgtrickle.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.PgtException;
import org.junit.jupiter.api.Test;

class QueryTextTest {
    @Test
    void trailingSemicolonsAndCommentsAreDropped() {
        assertThat(QueryText.normalise("SELECT 1 AS x;;  \n")).isEqualTo("SELECT 1 AS x");
        assertThat(QueryText.normalise("SELECT 1 AS x; -- done")).isEqualTo("SELECT 1 AS x");
        assertThat(QueryText.normalise("SELECT 1 AS x; /* done */")).isEqualTo("SELECT 1 AS x");
    }

    @Test
    void semicolonsInsideLiteralsIdentifiersCommentsAndDollarQuotesAreNotStatementEnds() {
        for (String q : new String[] {"SELECT 'a;b' AS x", "SELECT 1 AS \"a;b\"", "SELECT 1 AS x -- ; drop\n",
                "SELECT /* ; /* nested ; */ ; */ 1 AS x", "SELECT $$;$$ AS x", "SELECT $tag$ ; $tag$ AS x",
                "SELECT E'\\';' AS x", "SELECT 'it''s;' AS x"}) {
            assertThat(QueryText.firstTopLevelSemicolon(q)).as(q).isEqualTo(-1);
        }
    }

    @Test
    void aSecondStatementIsRejected() {
        assertThatThrownBy(() -> QueryText.normalise("SELECT 1 AS x; DROP TABLE t"))
                .isInstanceOf(PgtException.class).hasMessageContaining("more than one statement");
        assertThatThrownBy(() -> QueryText.normalise("SELECT $$a$$ AS x; DELETE FROM t"))
                .isInstanceOf(PgtException.class);
    }

    @Test
    void referencesAreReplacedOutsideLiteralsOnly() {
        java.util.regex.Pattern ref = java.util.regex.Pattern.compile("(?<![\\w.\"])f\\.(x\\d)");
        String sql = "f.x1 || 'f.x1' || E'\\'f.x2' || $q$ f.x2 $q$ || \"f\".x1 /* f.x1 */ || f.x2 -- f.x1\n";
        assertThat(QueryText.replaceOutsideLiterals(sql, ref, r -> "(" + r.group(1) + "$1)"))
                .isEqualTo("(x1$1) || 'f.x1' || E'\\'f.x2' || $q$ f.x2 $q$ || \"f\".x1 /* f.x1 */ || (x2$1) -- f.x1\n");
    }

    @Test
    void aQuoteInsideAQuotedIdentifierStartsNoLiteral() {
        java.util.regex.Pattern ref = java.util.regex.Pattern.compile("(?<![\\w.\"])f\\.(x\\d)");
        assertThat(QueryText.replaceOutsideLiterals("\"it's\" || f.x1 || 'f.x1'", ref, r -> "y"))
                .isEqualTo("\"it's\" || y || 'f.x1'");
        String text = "lower(a) || 'see lower(a)' || \"it's\" || lower(a) /* lower(a) */ || $$lower(a)$$";
        assertThat(QueryText.insideLiteral(text, text.indexOf("lower(a)"))).isFalse();
        assertThat(QueryText.insideLiteral(text, text.indexOf("lower(a)", 5))).isTrue();
        assertThat(QueryText.insideLiteral(text, text.indexOf("|| lower(a)") + 3)).isFalse();
        assertThat(QueryText.insideLiteral(text, text.indexOf("lower(a) */"))).isTrue();
        assertThat(QueryText.insideLiteral(text, text.lastIndexOf("lower(a)"))).isTrue();
    }

    @Test
    void positionsAreDescribedAsLineAndColumn() {
        assertThat(QueryText.describePosition("SELECT a,\n  bogus FROM t", 13))
                .startsWith("at line 2, column 3:").contains("  bogus FROM t").endsWith("  ^");
    }
}
