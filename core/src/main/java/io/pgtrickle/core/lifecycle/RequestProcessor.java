package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.AlterOptions;
import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.CreateResult;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.api.Status;
import io.pgtrickle.core.api.StreamTableInfo;
import io.pgtrickle.core.catalog.StreamTableCatalog;
import io.pgtrickle.core.lifecycle.StreamTableCreator.OnExists;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the requests the SQL API files in {@code pgtrickle.pgt_requests} (create,
 * create_or_replace, create_if_not_exists, alter with a new query), for the role that filed them
 * and with its search path.
 *
 * <p>A request is taken with {@code FOR UPDATE SKIP LOCKED} and its outcome is written in the same
 * transaction as the work: if the daemon dies half-way, the work is rolled back and the request is
 * still pending for the next daemon, never half-done nor done twice.
 */
public final class RequestProcessor {
    private static final Logger log = LoggerFactory.getLogger(RequestProcessor.class);

    private final StreamTableCreator creator = new StreamTableCreator();
    private final StreamTableAlterer alterer = new StreamTableAlterer();
    private final StreamTableCatalog catalog = new StreamTableCatalog();

    /** Carries out the oldest pending request, if any; returns whether there was one. */
    public boolean processNext(Connection conn) throws SQLException {
        boolean autoCommit = conn.getAutoCommit();
        conn.setAutoCommit(false);
        try {
            Request r = takeNext(conn);
            if (r == null) {
                conn.commit();
                return false;
            }
            try (Statement st = conn.createStatement()) {
                st.execute("SAVEPOINT pgt_request");
            }
            try {
                Outcome outcome = carryOut(conn, r);
                try (PreparedStatement ps = conn.prepareStatement("""
                        UPDATE pgtrickle.pgt_requests
                           SET status = 'DONE', finished_at = now(), notices = ?,
                               result = jsonb_build_object('outcome', ?::text, 'stream_table', ?::text)
                         WHERE request_id = ?""")) {
                    ps.setArray(1, conn.createArrayOf("text", outcome.notices().toArray()));
                    ps.setString(2, outcome.outcome());
                    ps.setString(3, outcome.streamTable());
                    ps.setLong(4, r.id());
                    ps.executeUpdate();
                }
                log.info("request {} ({} by {}): {} {}", r.id(), r.kind(), r.requestedBy(), outcome.outcome(), outcome.streamTable());
            } catch (SQLException | RuntimeException e) {
                PgtException p = e instanceof PgtException pe ? pe
                        : e instanceof SQLException se ? PgtException.fromSql(se, null)
                        : PgtException.internal(String.valueOf(e.getMessage()), e);
                try (Statement st = conn.createStatement()) {
                    st.execute("ROLLBACK TO SAVEPOINT pgt_request");
                }
                try (PreparedStatement ps = conn.prepareStatement("""
                        UPDATE pgtrickle.pgt_requests
                           SET status = 'FAILED', finished_at = now(), error_sqlstate = ?, error_message = ?, error_hint = ?
                         WHERE request_id = ?""")) {
                    ps.setString(1, p.sqlState());
                    ps.setString(2, p.getMessage());
                    ps.setString(3, p.hint());
                    ps.setLong(4, r.id());
                    ps.executeUpdate();
                }
                log.info("request {} ({} by {}) failed: {} [{}]", r.id(), r.kind(), r.requestedBy(), p.getMessage(), p.sqlState());
            }
            conn.commit();
            return true;
        } catch (SQLException | RuntimeException e) {
            conn.rollback();
            throw e;
        } finally {
            conn.setAutoCommit(autoCommit);
        }
    }

    private record Request(long id, String kind, String requestedBy, String name, String query, String schedule,
                           String refreshMode, String initialize, String status, String searchPath) {
    }

    private record Outcome(String outcome, String streamTable, List<String> notices) {
    }

    private static Request takeNext(Connection conn) throws SQLException {
        try (Statement st = conn.createStatement();
             ResultSet rs = st.executeQuery("""
                     SELECT request_id, kind, requested_by, payload->>'name', payload->>'query', payload->>'schedule',
                            payload->>'refresh_mode', payload->>'initialize', payload->>'status', payload->>'search_path'
                       FROM pgtrickle.pgt_requests
                      WHERE status = 'PENDING'
                      ORDER BY request_id
                      LIMIT 1
                        FOR UPDATE SKIP LOCKED""")) {
            if (!rs.next()) {
                return null;
            }
            return new Request(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                    rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10));
        }
    }

    private Outcome carryOut(Connection conn, Request r) throws SQLException {
        if (r.name() == null || (r.query() == null && !"alter_query".equals(r.kind()))) {
            throw PgtException.invalidArgument("request " + r.id() + " names no stream table or query",
                    "File requests with the SQL API's procedures or *_deferred functions.");
        }
        return switch (r.kind()) {
            case "create" -> created(conn, r, OnExists.FAIL);
            case "create_or_replace" -> created(conn, r, OnExists.REPLACE);
            case "create_if_not_exists" -> created(conn, r, OnExists.KEEP);
            case "alter_query" -> alteredQuery(conn, r);
            default -> throw PgtException.invalidArgument("unknown request kind '" + r.kind() + "'",
                    "The SQL API files create, create_or_replace, create_if_not_exists and alter_query.");
        };
    }

    private Outcome created(Connection conn, Request r, OnExists onExists) throws SQLException {
        CreateOptions o = new CreateOptions(r.name(), r.query(), r.schedule(), RefreshMode.parse(r.refreshMode()),
                initialize(r.initialize()));
        CreateResult result = creator.create(conn, o, onExists, requester(r));
        return new Outcome(result.outcome().name(), result.streamTable().qualifiedName(), result.notices());
    }

    /** A new query, keeping the schedule and requested mode unless the request changes them too. */
    private Outcome alteredQuery(Connection conn, Request r) throws SQLException {
        StreamTableInfo st = catalog.require(conn, QualifiedName.parse(r.name()));
        String requestedMode = r.refreshMode() != null ? r.refreshMode()
                : catalogText(conn, "requested_refresh_mode", st.id());
        String schedule = r.schedule() != null ? r.schedule() : st.schedule() == null ? "calculated" : st.schedule();
        CreateOptions o = new CreateOptions(r.name(), r.query(), schedule, RefreshMode.parse(requestedMode), true);
        CreateResult result = creator.create(conn, o, OnExists.REPLACE, requester(r));
        List<String> notices = new ArrayList<>(result.notices());
        if (r.status() != null) {
            Status status = parseStatus(r.status());
            notices.addAll(alterer.alter(conn, catalog.byId(conn, st.id()), AlterOptions.none().withStatus(status)));
        }
        return new Outcome(result.outcome().name(), result.streamTable().qualifiedName(), notices);
    }

    /** The requester's rights, and its search path for the names in its query only. */
    private static StreamTableCreator.Requester requester(Request r) {
        return new StreamTableCreator.Requester(r.requestedBy(), r.searchPath());
    }

    private static boolean initialize(String text) {
        if (text == null) {
            return true;
        }
        return switch (text) {
            case "true" -> true;
            case "false" -> false;
            default -> throw PgtException.invalidArgument("initialize must be true or false, not '" + text + "'", null);
        };
    }

    private static Status parseStatus(String text) {
        try {
            return Status.valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new PgtException(ErrorCode.INVALID_ARGUMENT, "invalid status " + text, "alter accepts ACTIVE or PAUSED.");
        }
    }

    private static String catalogText(Connection conn, String column, long id) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement(
                "SELECT " + column + " FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?")) {
            ps.setLong(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
