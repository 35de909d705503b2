package io.pgtrickle.server.http;

import java.time.Instant;
import java.util.List;

/** What the HTTP endpoints show; the daemon implements it. Every method may be called from several threads. */
public interface StatusSource {

    /**
     * @param catalogVersion installed catalog version, 0 when unknown (database unreachable)
     */
    record Health(String role, boolean databaseReachable, int catalogVersion, int expectedCatalogVersion) {
        public boolean healthy() {
            return databaseReachable && catalogVersion == expectedCatalogVersion;
        }
    }

    /**
     * One line of the status page.
     *
     * @param freshAsOf when it last reflected every committed change, as the leader saw it; null when unknown
     */
    record StreamTableRow(String name, String status, String mode, String schedule, Instant freshAsOf,
                          Instant lastRefreshAt, String lastAction, long lastDurationMillis, String lastError) {
    }

    Health health();

    /** The Prometheus exposition text. */
    String prometheus();

    /** Every stream table, for the status page; throws when the database cannot be read. */
    List<StreamTableRow> streamTables() throws Exception;
}
