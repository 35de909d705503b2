package io.pgtrickle.core.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class QualifiedNameTest {
    @Test
    void foldsUnquotedPartsAndKeepsQuotedOnes() {
        QualifiedName n = QualifiedName.parse("Sales.\"Order.Totals\"");
        assertThat(n.schema().text()).isEqualTo("sales");
        assertThat(n.name().text()).isEqualTo("Order.Totals");
        assertThat(n.quoted()).isEqualTo("\"sales\".\"Order.Totals\"");
        assertThat(n.display()).isEqualTo("sales.\"Order.Totals\"");
        assertThat(QualifiedName.parse("t").schema()).isNull();
        assertThat(QualifiedName.parse("\"a\"\"b\"").name().text()).isEqualTo("a\"b");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "a.b.c", "a.", ".a", "1abc", "a b", "a;drop", "\"unterminated", "a.\"\"",
            "a-b", "\"x\"y"})
    void rejectsInvalidNamesWithACode(String input) {
        assertThatThrownBy(() -> QualifiedName.parse(input))
                .isInstanceOfSatisfying(PgtException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_NAME));
    }

    @Test
    void rejectsNamesPostgresWouldTruncate() {
        assertThat(QualifiedName.parse("x".repeat(63)).name().text()).hasSize(63);
        assertThatThrownBy(() -> QualifiedName.parse("x".repeat(64))).isInstanceOf(PgtException.class);
        assertThatThrownBy(() -> QualifiedName.parse("\"" + "é".repeat(32) + "\"")).isInstanceOf(PgtException.class);
    }

    @Test
    void literalsAndIdentifiersAreQuotedSafely() {
        assertThat(Sql.literal("it's a \\ test")).isEqualTo("E'it''s a \\\\ test'");
        assertThat(Sql.quoteIdent("we\"ird")).isEqualTo("\"we\"\"ird\"");
        assertThatThrownBy(() -> Sql.literal("nul\0")).isInstanceOf(PgtException.class);
    }
}
