package io.pgtrickle.server.daemon;

import static io.pgtrickle.server.daemon.Testing.await;
import static io.pgtrickle.server.daemon.Testing.sql;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.embedded.TestPostgres;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The election alone, with listeners that can hold the step-down the way a long refresh in flight does. */
class LeadershipTest {
    private static final Duration LIMIT = Duration.ofSeconds(20);
    private static final Duration RETRY = Duration.ofMillis(100);

    /** Records the calls; {@code deposed()} blocks until released, like a refresh that takes its time. */
    private static final class SlowToStepDown implements Leadership.Listener {
        final CountDownLatch deposing = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public void elected() {
        }

        @Override
        public void deposed() {
            deposing.countDown();
            try {
                release.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void changesCommitted() {
        }
    }

    /** Regression: CI saw the standby lead while the deposed daemon still said it led, waiting for its refresh. */
    @Test
    void aLostLockEndsLeadershipBeforeTheRefreshInFlightFinishes() throws Exception {
        String url = TestPostgres.newDatabase("leadership_lost").jdbcUrl();
        SlowToStepDown slow = new SlowToStepDown();
        try (Leadership a = new Leadership(() -> DriverManager.getConnection(url), RETRY, slow)) {
            a.start();
            assertThat(await(LIMIT, a::leader)).isTrue();
            SlowToStepDown other = new SlowToStepDown();
            other.release.countDown();
            try (Leadership b = new Leadership(() -> DriverManager.getConnection(url), RETRY, other)) {
                b.start();
                assertThat(await(Duration.ofMillis(500), b::leader)).as("the lock is taken").isFalse();

                sql(url, "SELECT pg_terminate_backend(" + a.backendPid() + ")");
                assertThat(slow.deposing.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
                assertThat(a.leader()).as("the lock is gone, whatever still runs").isFalse();
                assertThat(await(LIMIT, b::leader)).isTrue();
                assertThat(a.leader()).isFalse();
                slow.release.countDown();
            }
        }
    }

    @Test
    void aGracefulStopLeadsUntilTheRefreshInFlightFinishes() throws Exception {
        String url = TestPostgres.newDatabase("leadership_stop").jdbcUrl();
        SlowToStepDown slow = new SlowToStepDown();
        Leadership a = new Leadership(() -> DriverManager.getConnection(url), RETRY, slow);
        a.start();
        assertThat(await(LIMIT, a::leader)).isTrue();
        Thread closer = new Thread(a::close, "test-close");
        closer.start();
        assertThat(slow.deposing.await(LIMIT.toMillis(), TimeUnit.MILLISECONDS)).isTrue();
        assertThat(a.leader()).as("the lock is still held while the refresh finishes").isTrue();
        slow.release.countDown();
        closer.join(LIMIT.toMillis());
        assertThat(closer.isAlive()).isFalse();
        assertThat(a.leader()).isFalse();
        assertThat(Testing.advisoryLocks(url)).isZero();
    }
}
