package io.pgtrickle.server.http;

/** The /health document; five fixed fields, so no JSON library is needed to write it. */
final class HealthJson {
    private HealthJson() {
    }

    static String render(StatusSource.Health h) {
        return "{\"status\":\"" + (h.healthy() ? "ok" : "unavailable") + "\""
                + ",\"role\":\"" + h.role() + "\""
                + ",\"database_reachable\":" + h.databaseReachable()
                + ",\"catalog_version\":" + h.catalogVersion()
                + ",\"expected_catalog_version\":" + h.expectedCatalogVersion() + "}\n";
    }
}
