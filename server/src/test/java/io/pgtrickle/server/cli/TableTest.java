package io.pgtrickle.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

class TableTest {

    private static String render(Table t) {
        StringWriter s = new StringWriter();
        t.print(new PrintWriter(s));
        return s.toString();
    }

    @Test
    void alignsColumnsAndRightAlignsNumbers() {
        Table t = new Table("NAME", "ROWS", "NOTE", "EMPTY").row("a", 5, null, null).row("longer", 1234, "x", null);
        assertThat(render(t).lines()).containsExactly(
                "NAME    ROWS  NOTE  EMPTY",
                "a          5  -     -",
                "longer  1234  x     -");
    }

    @Test
    void timestampsAreLocalIsoWithoutFractions() {
        OffsetDateTime t = OffsetDateTime.parse("2024-03-01T10:15:30.123456Z");
        String expected = t.atZoneSameInstant(ZoneId.systemDefault()).toLocalDateTime().withNano(0).toString();
        assertThat(Format.timestamp(t)).isEqualTo(expected).doesNotContain(".");
    }

    @Test
    void cellsAreOneLineAndCut() {
        assertThat(Format.cell("a\n  b", 10)).isEqualTo("a b");
        assertThat(Format.cell("x".repeat(20), 10)).isEqualTo("xxxxxxx...");
    }

    @Test
    void detailsIndentContinuationLines() {
        StringWriter s = new StringWriter();
        new Details().add("k", "v").add("query", "SELECT 1\nFROM t").print(new PrintWriter(s));
        assertThat(s.toString().lines()).containsExactly("k:     v", "query: SELECT 1", "       FROM t");
    }
}
