package io.pgtrickle.embedded;

/**
 * A fresh database created by {@link TestPostgres#newDatabase(String)} for one test (class).
 *
 * @param name the database name, unique on the server
 * @param jdbcUrl a URL connecting to it as a superuser, e.g.
 *     {@code jdbc:postgresql://127.0.0.1:41234/orders_test_3_k2x9?user=postgres}
 * @param serverVersion the server's {@code server_version}, e.g. {@code 18.4}
 */
public record TestDatabase(String name, String jdbcUrl, String serverVersion) {}
