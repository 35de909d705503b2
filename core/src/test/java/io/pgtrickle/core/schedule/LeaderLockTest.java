package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.testing.Db;
import java.sql.Connection;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** One leader per database: the session advisory lock and what ends it. */
class LeaderLockTest {
    @Test
    void oneSessionHoldsItUntilItsSessionEnds() throws Exception {
        Db db = Db.create(LeaderLockTest.class);
        try (Connection a = db.connect(); Connection b = db.connect(); Connection admin = db.connect()) {
            assertThat(LeaderLock.tryAcquire(a)).isTrue();
            assertThat(LeaderLock.tryAcquire(a)).as("idempotent for the holder").isTrue();
            assertThat(LeaderLock.tryAcquire(b)).isFalse();
            assertThat(LeaderLock.held(a)).isTrue();
            assertThat(LeaderLock.held(b)).isFalse();
            int pidA = a.unwrap(org.postgresql.PGConnection.class).getBackendPID();
            assertThat(LeaderLock.holder(admin)).hasValue(pidA);
            assertThat(db.queryLong("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = "
                    + LeaderLock.KEY)).as("the documented key, one lock").isEqualTo(1);

            // The leader's connection is killed (as when its process dies): the lock goes with the session.
            db.exec("SELECT pg_terminate_backend(" + pidA + ")");
            assertThatThrownBy(() -> LeaderLock.held(a)).isInstanceOf(SQLException.class);
            long deadline = System.nanoTime() + 10_000_000_000L;
            boolean taken = false;
            while (!taken && System.nanoTime() < deadline) {
                taken = LeaderLock.tryAcquire(b);
            }
            assertThat(taken).isTrue();
            assertThat(LeaderLock.holder(admin)).hasValue(b.unwrap(org.postgresql.PGConnection.class).getBackendPID());
        }
    }
}
