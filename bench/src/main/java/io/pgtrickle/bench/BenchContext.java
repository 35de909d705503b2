package io.pgtrickle.bench;

import io.pgtrickle.core.api.StreamTables;
import java.sql.Connection;

/**
 * What every family gets: the run's configuration, the bench database (URL, one autocommit
 * connection for the timed statements, the Java API over the same URL) and the progress printer.
 */
record BenchContext(Config config, String url, Connection conn, StreamTables api, Progress progress) {
}
