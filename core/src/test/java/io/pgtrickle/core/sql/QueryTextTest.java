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
    void positionsAreDescribedAsLineAndColumn() {
        assertThat(QueryText.describePosition("SELECT a,\n  bogus FROM t", 13))
                .startsWith("at line 2, column 3:").contains("  bogus FROM t").endsWith("  ^");
    }
}
