package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class TestPostgresTest {

    @Test
    void newDatabaseGivesDistinctUsableDatabases() throws Exception {
        TestDatabase a = TestPostgres.newDatabase("Orders Test!");
        TestDatabase b = TestPostgres.newDatabase("Orders Test!");
        assertThat(a.name()).isNotEqualTo(b.name()).startsWith("orders_test_").matches("[a-z0-9_]{1,63}");
        assertThat(a.jdbcUrl()).isNotEqualTo(b.jdbcUrl());
        assertThat(a.serverVersion()).isEqualTo(b.serverVersion()).startsWith(TestPostgres.external() ? "" : "18.");
        for (TestDatabase db : new TestDatabase[] {a, b}) {
            try (Connection c = DriverManager.getConnection(db.jdbcUrl()); Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("SELECT current_database()")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(db.name());
            }
        }
        assertThat(TestPostgres.adminUrl()).contains("/postgres");
    }

    @Test
    void namesAreSanitisedAndTruncated() {
        assertThat(TestPostgres.uniqueName("X".repeat(100))).hasSizeLessThanOrEqualTo(63).startsWith("xxx");
        assertThat(TestPostgres.uniqueName("  ")).startsWith("test_");
        assertThat(TestPostgres.uniqueName(null)).startsWith("test_");
        assertThat(TestPostgres.uniqueName("42 things")).startsWith("t_42_things_");
        assertThat(TestPostgres.uniqueName("ÄÖ-über/Test")).matches("[a-z0-9_]+").startsWith("ber_test_");
    }

    @Test
    void replacesTheDatabaseOfAnExternalUrl() {
        assertThat(TestPostgres.withDatabase("jdbc:postgresql://h:5432/postgres?user=u&password=p", "d1"))
                .isEqualTo("jdbc:postgresql://h:5432/d1?user=u&password=p");
        assertThat(TestPostgres.withDatabase("jdbc:postgresql://h1:1,h2:2/", "d1"))
                .isEqualTo("jdbc:postgresql://h1:1,h2:2/d1");
        assertThat(TestPostgres.withDatabase("jdbc:postgresql://h?user=u", "d1"))
                .isEqualTo("jdbc:postgresql://h/d1?user=u");
        assertThat(TestPostgres.withDatabase("jdbc:postgresql:postgres", "d1")).isEqualTo("jdbc:postgresql:d1");
    }
}
