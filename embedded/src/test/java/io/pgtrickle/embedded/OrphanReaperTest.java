package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class OrphanReaperTest {
    /** A pid from a dead server's postmaster.pid that now belongs to a process started at another time is not that server. */
    @Test
    void aReusedPidIsNotTheOrphansServer() {
        ProcessHandle me = ProcessHandle.current();
        long started = me.info().startInstant().orElseThrow().getEpochSecond();
        assertThat(OrphanReaper.startedWith(me, Long.toString(started))).isTrue();
        assertThat(OrphanReaper.startedWith(me, Long.toString(started + 2))).isTrue();
        assertThat(OrphanReaper.startedWith(me, Long.toString(started - 3_600))).isFalse();
        assertThat(OrphanReaper.startedWith(me, "not a number")).isTrue();
    }
}
