package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.catalog.StreamTableCatalog;
import io.pgtrickle.core.cdc.ChangeCapture;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** Drops stream tables, their storage and any capture no other stream table needs. */
public final class StreamTableDropper {
    private final StreamTableCatalog catalog = new StreamTableCatalog();
    private final ChangeCapture capture = new ChangeCapture();

    /** Returns every stream table dropped, dependents first. */
    public List<String> drop(Connection conn, StreamTableInfo st, boolean cascade) throws SQLException {
        List<String> dropped = new ArrayList<>();
        List<StreamTableInfo> readers = catalog.downstream(conn, st.id());
        if (!readers.isEmpty() && !cascade) {
            throw new PgtException(ErrorCode.DEPENDENT_OBJECTS_EXIST,
                    "cannot drop stream table " + st.qualifiedName() + ": stream tables "
                            + readers.stream().map(StreamTableInfo::qualifiedName).collect(Collectors.joining(", "))
                            + " read it",
                    "Drop those first, or drop with cascade to drop them too.");
        }
        for (StreamTableInfo reader : readers) {
            dropped.addAll(drop(conn, reader, true));
        }
        long relid = catalog.relid(conn, st.id());
        List<Long> sources = StreamTableCreator.sourceRelids(conn, st.id());
        Jdbc.update(conn, "DELETE FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?", st.id());
        capture.dropCaptureIfUnused(conn, relid);
        try (Statement s = conn.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + QualifiedName.of(st.schema(), st.name()).quoted());
        }
        for (long source : sources) {
            capture.dropCaptureIfUnused(conn, source);
        }
        dropped.add(st.qualifiedName());
        return dropped;
    }
}
