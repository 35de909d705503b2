package io.pgtrickle.core.tpch;

import io.trino.tpch.TpchEntity;
import io.trino.tpch.TpchTable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * Creates the TPC-H schema ({@code tpch/schema.sql}: PostgreSQL types, primary keys) in the current
 * schema of a connection and fills it from the TPC-H generator (dbgen's data, row for row) at a
 * scale factor, through COPY; then creates the secondary indexes ({@code tpch/indexes.sql}) and
 * analyses the tables.
 */
public final class TpchLoader {
    private static final int BATCH_BYTES = 1 << 20;

    private TpchLoader() {
    }

    /** Creates and loads the eight tables; returns the row count of each, by table name. */
    public static Map<String, Long> load(Connection c, double scale) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(resource("tpch/schema.sql"));
        }
        Map<String, Long> rows = new LinkedHashMap<>();
        for (TpchTable<?> table : TpchTable.getTables()) {
            rows.put(table.getTableName(), copy(c, table, scale));
        }
        try (Statement st = c.createStatement()) {
            st.execute(resource("tpch/indexes.sql"));
            st.execute("ANALYZE " + String.join(", ", rows.keySet()));
        }
        return rows;
    }

    /**
     * COPYs one table's rows in dbgen's own text layout ({@code toLine()}: fields separated by '|',
     * one trailing '|', money and dates already formatted), which PostgreSQL's text format reads
     * with DELIMITER '|' once the trailing separator is cut.
     */
    private static <E extends TpchEntity> long copy(Connection c, TpchTable<E> table, double scale) throws SQLException {
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI()
                .copyIn("COPY " + table.getTableName() + " FROM STDIN (FORMAT text, DELIMITER '|')");
        try {
            StringBuilder batch = new StringBuilder(BATCH_BYTES + 1024);
            for (E row : table.createGenerator(scale, 1, 1)) {
                String line = row.toLine();
                if (line.indexOf('\\') >= 0) {
                    throw new IllegalStateException("backslash in generated " + table.getTableName() + " row: " + line);
                }
                batch.append(line, 0, line.length() - 1).append('\n');
                if (batch.length() >= BATCH_BYTES) {
                    write(copy, batch);
                }
            }
            write(copy, batch);
            return copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }

    private static void write(CopyIn copy, StringBuilder batch) throws SQLException {
        byte[] bytes = batch.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
        batch.setLength(0);
    }

    /** A resource of this class path as text: the TPC-H SQL files here, the generator's reference answers. */
    public static String resource(String path) {
        try (InputStream in = TpchLoader.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + path);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
