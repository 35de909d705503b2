package io.pgtrickle.core.schedule;

import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.Setting;
import io.pgtrickle.core.api.StreamTables.ConnectionSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes refresh history older than {@code pg_trickle.history_retention_days}, in batches of at
 * most {@value #BATCH} rows, each its own transaction: a backlog of millions of rows is removed
 * without one long transaction holding locks and a snapshot that would stall vacuum.
 */
public final class HistoryPruner {
    private static final Logger log = LoggerFactory.getLogger(HistoryPruner.class);
    /** Rows per batch: one batch is a few milliseconds of work on the start_time index. */
    public static final int BATCH = 10_000;

    private final ConnectionSource connections;

    public HistoryPruner(ConnectionSource connections) {
        this.connections = connections;
    }

    /** What one run did: the rows each batch deleted, in order. */
    public record Result(double retentionDays, List<Long> batches) {
        public long deleted() {
            return batches.stream().mapToLong(Long::longValue).sum();
        }
    }

    /** The settings of one run, read on a fresh connection so database-level changes apply. */
    public record Settings(double retentionDays, Duration interval) {
        public boolean enabled() {
            return retentionDays > 0 && !interval.isZero();
        }
    }

    public Settings settings() {
        try (Connection c = connections.open()) {
            return settings(c);
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "reading the history settings");
        }
    }

    static Settings settings(Connection c) throws SQLException {
        double days = Setting.HISTORY_RETENTION_DAYS.currentNumber(c, 0, 36_500);
        double seconds = Setting.HISTORY_PRUNE_INTERVAL_SECONDS.currentNumber(c, 0, 86_400);
        return new Settings(days, Duration.ofMillis(Math.round(seconds * 1000)));
    }

    /** Prunes with the current retention setting; nothing when it is 0. */
    public Result run() {
        try (Connection c = connections.open()) {
            return prune(c, settings(c).retentionDays());
        } catch (SQLException e) {
            throw PgtException.fromSql(e, "pruning the refresh history");
        }
    }

    /** Deletes rows older than {@code retentionDays} batch by batch on an autocommit connection. */
    public static Result prune(Connection c, double retentionDays) throws SQLException {
        List<Long> batches = new ArrayList<>();
        if (retentionDays <= 0) {
            return new Result(retentionDays, batches);
        }
        c.setAutoCommit(true); // each call below is its own transaction
        try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle._prune_history(?, ?)")) {
            ps.setDouble(1, retentionDays);
            ps.setInt(2, BATCH);
            long n;
            do {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    n = rs.getLong(1);
                }
                if (n > 0) {
                    batches.add(n);
                }
            } while (n == BATCH);
        }
        Result r = new Result(retentionDays, batches);
        if (r.deleted() > 0) {
            log.info("pruned {} refresh history rows older than {} days in {} batches", r.deleted(), retentionDays,
                    batches.size());
        }
        return r;
    }
}
