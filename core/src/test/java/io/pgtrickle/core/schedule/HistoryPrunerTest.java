package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.testing.Db;
import java.sql.DriverManager;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** History older than the retention goes, in batches of at most 10,000 rows, newest rows stay. */
class HistoryPrunerTest {
    @Test
    void deletesOldHistoryInBatchesAndKeepsTheRest() {
        Db db = Db.create(HistoryPrunerTest.class);
        db.exec("CREATE TABLE t (id int PRIMARY KEY)");
        db.api.create(CreateOptions.of("t_count", "SELECT count(*) AS n FROM t"));
        long id = db.queryLong("SELECT pgt_id FROM pgtrickle.pgt_stream_tables");
        // 25,000 synthetic rows 8 to 30 days old, 100 from 6 days ago, plus the real creation row.
        db.exec("""
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by)
                SELECT %1$d, ts, ts, ts, 'NO_DATA', 'COMPLETED', 'SCHEDULER'
                  FROM (SELECT now() - interval '8 days' - (g %% 22) * interval '1 day' - g * interval '1 second' AS ts
                          FROM generate_series(1, 25000) g) s""".formatted(id), """
                INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by)
                SELECT %1$d, ts, ts, ts, 'NO_DATA', 'COMPLETED', 'SCHEDULER'
                  FROM (SELECT now() - interval '6 days' AS ts FROM generate_series(1, 100)) s""".formatted(id));
        long recent = db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE start_time > now() - interval '7 days'");

        HistoryPruner pruner = new HistoryPruner(() -> DriverManager.getConnection(db.url()));
        HistoryPruner.Settings defaults = pruner.settings();
        assertThat(defaults.retentionDays()).isEqualTo(7);
        assertThat(defaults.interval()).isEqualTo(Duration.ofSeconds(60));

        HistoryPruner.Result r = pruner.run();
        assertThat(r.batches()).containsExactly(10_000L, 10_000L, 5_000L);
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history")).isEqualTo(recent).isEqualTo(101);
        assertThat(pruner.run().batches()).isEmpty();

        // The interval under its short name too (as the issue spells it); the long name wins when both are set.
        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.history_prune_interval_s = 15");
        assertThat(pruner.settings().interval()).isEqualTo(Duration.ofSeconds(15));
        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.history_prune_interval_seconds = 20");
        assertThat(pruner.settings().interval()).isEqualTo(Duration.ofSeconds(20));

        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.history_retention_days = 5");
        assertThat(pruner.run().deleted()).isEqualTo(100);
        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.history_retention_days = 0");
        assertThat(pruner.settings().enabled()).isFalse();
        assertThat(pruner.run().deleted()).isZero();
        assertThat(db.queryLong("SELECT count(*) FROM pgtrickle.pgt_refresh_history")).isEqualTo(1);

        db.exec("ALTER DATABASE " + db.database.name() + " SET pg_trickle.history_retention_days = 'a week'");
        assertThatThrownBy(pruner::settings).isInstanceOf(PgtException.class)
                .hasMessageContaining("pg_trickle.history_retention_days").hasMessageContaining("a week");
    }
}
