package io.pgtrickle.core.schedule;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The lock that makes one daemon per database the leader: a session-level advisory lock on key
 * {@value #KEY} ('PGTL' in ASCII) held on a connection of its own.
 *
 * <p>Session advisory locks belong to one database, so each database has its own leader. The
 * lock lives exactly as long as the session: when the leader's process dies or its connection
 * breaks, PostgreSQL ends the session and releases the lock, and a standby's next attempt takes
 * it. It never conflicts with the per-stream-table refresh locks ('PGTR' in the high 32 bits of
 * the key) or the install lock ('PGTI'), which are other keys of the same space.
 */
public final class LeaderLock {
    /** 0x5047544C, 'PGTL': {@code SELECT pg_try_advisory_lock(1346851916)}. */
    public static final long KEY = 0x5047544CL;
    /** application_name of the lock's session, so pg_stat_activity shows which daemon leads. */
    public static final String APPLICATION_NAME = "pgtrickle leader";

    private LeaderLock() {
    }

    /** Takes the lock on this session unless another session holds it; never waits. */
    public static boolean tryAcquire(Connection conn) throws SQLException {
        if (held(conn)) {
            return true; // session locks stack: never take it twice
        }
        try (PreparedStatement ps = conn.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, KEY);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** Whether this session holds the lock; throws when the connection is gone. */
    public static boolean held(Connection conn) throws SQLException {
        // A bigint key is stored as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT EXISTS (SELECT 1 FROM pg_locks
                                WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                                  AND classid = ?::bigint::oid AND objid = ?::bigint::oid AND objsubid = 1)""")) {
            ps.setLong(1, KEY >>> 32);
            ps.setLong(2, KEY & 0xFFFFFFFFL);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** The backend pid of the session holding the lock in this database, if any. */
    public static java.util.OptionalInt holder(Connection conn) throws SQLException {
        try (PreparedStatement ps = conn.prepareStatement("""
                SELECT pid FROM pg_locks
                 WHERE locktype = 'advisory' AND granted
                   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND classid = ?::bigint::oid AND objid = ?::bigint::oid AND objsubid = 1""")) {
            ps.setLong(1, KEY >>> 32);
            ps.setLong(2, KEY & 0xFFFFFFFFL);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.OptionalInt.of(rs.getInt(1)) : java.util.OptionalInt.empty();
            }
        }
    }
}
