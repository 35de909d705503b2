package io.pgtrickle.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/** What the numbers were measured on: the JVM's machine and the PostgreSQL server with its settings. */
final class Machine {
    private static final String[] SETTINGS = {"shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
        "fsync", "synchronous_commit", "full_page_writes", "wal_level", "max_wal_size", "jit", "max_parallel_workers_per_gather",
        "autovacuum"};

    private Machine() {
    }

    static Map<String, Object> describe(Connection c, String server) throws SQLException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("cpu", cpuModel());
        m.put("memory_gib", Math.round(((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getTotalMemorySize() / (1024.0 * 1024 * 1024)));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
        m.put("java", System.getProperty("java.version"));
        m.put("server", server);
        m.put("postgresql", Sql.string(c, "SELECT current_setting('server_version')"));
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY ('{" + String.join(",", SETTINGS)
                        + "}') ORDER BY array_position('{" + String.join(",", SETTINGS) + "}'::text[], name)")) {
            while (rs.next()) {
                m.put(rs.getString(1), rs.getString(2));
            }
        }
        return m;
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip()).findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
