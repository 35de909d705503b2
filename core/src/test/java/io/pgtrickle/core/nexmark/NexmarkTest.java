package io.pgtrickle.core.nexmark;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.CreateOptions;
import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.nexmark.NexmarkQueries.Query;
import io.pgtrickle.core.testing.Db;
import io.pgtrickle.core.testing.Oracle;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Nexmark in every refresh mode: each query of {@link NexmarkQueries} as a FULL, a DIFFERENTIAL
 * and an IMMEDIATE stream table over the generator's event stream, then batches of new events (one
 * transaction each, with retention deletes and updates of auctions, people and the side input);
 * after every batch the DIFFERENTIAL and FULL ones are refreshed and all must equal their query.
 * A mode that refuses a query must be one {@link #REFUSED} names, with its reason; AUTO then
 * maintains it by FULL, which is checked too.
 *
 * <p>{@code -Dpgtrickle.nexmark.events=N} (initial events, 2,000), {@code pgtrickle.nexmark.batches}
 * (4), {@code pgtrickle.nexmark.seed} (11).
 */
class NexmarkTest {
    private static final Logger log = LoggerFactory.getLogger(NexmarkTest.class);
    static final int EVENTS = Integer.getInteger("pgtrickle.nexmark.events", 2_000);
    static final int BATCHES = Integer.getInteger("pgtrickle.nexmark.batches", 4);
    static final long SEED = Long.getLong("pgtrickle.nexmark.seed", 11L);

    /** Stream tables a mode may refuse (query_mode), and a word of the reason it must give. */
    static final Map<String, String> REFUSED = Map.of();

    private static final List<RefreshMode> MODES = List.of(RefreshMode.FULL, RefreshMode.DIFFERENTIAL, RefreshMode.IMMEDIATE);

    @Test
    void everyQueryInEveryModeItSupportsEqualsTheQueryAfterEveryBatch() throws SQLException {
        Db db = Db.create(NexmarkTest.class);
        NexmarkGenerator gen = new NexmarkGenerator(SEED);
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute(NexmarkGenerator.SCHEMA);
            for (String s : gen.batch(EVENTS, false)) {
                st.execute(s);
            }
        }
        List<String> streamTables = new ArrayList<>();
        java.util.Set<String> immediate = new java.util.HashSet<>();
        Map<String, String> refused = new LinkedHashMap<>();
        for (Query q : NexmarkQueries.ALL) {
            for (RefreshMode mode : MODES) {
                String name = q.name() + "_" + mode.name().toLowerCase(Locale.ROOT);
                try {
                    assertThat(db.api.create(CreateOptions.of(name, q.sql()).withRefreshMode(mode)).streamTable().refreshMode())
                            .isEqualTo(mode);
                    streamTables.add(name);
                    if (mode == RefreshMode.IMMEDIATE) {
                        immediate.add(name);
                    }
                } catch (PgtException e) {
                    if (e.code() != ErrorCode.UNSUPPORTED_QUERY) {
                        throw e;
                    }
                    refused.put(name, e.getMessage());
                    // AUTO maintains it anyway, by FULL, with the reason
                    db.api.create(CreateOptions.of(name, q.sql()));
                    streamTables.add(name);
                }
            }
        }
        refused.forEach((name, why) -> log.info("REFUSED {}: {}", name, why));
        assertThat(refused.keySet()).as("stream tables a mode refused: %s", refused).isSubsetOf(REFUSED.keySet());
        refused.forEach((name, why) -> assertThat(why).as(name).contains(REFUSED.get(name)));
        check(db, streamTables, "after create");
        for (int b = 1; b <= BATCHES; b++) {
            try (Connection c = db.connect()) {
                c.setAutoCommit(false);
                try (Statement st = c.createStatement()) {
                    for (String s : gen.batch(EVENTS / 4, true)) {
                        st.execute(s);
                    }
                }
                c.commit();
            }
            for (String name : streamTables) {
                if (!immediate.contains(name)) {
                    db.api.refresh(name);
                }
            }
            check(db, streamTables, "after batch " + b);
        }
        log.info("Nexmark: {} queries, {} stream tables, {} batches of {} events checked; refused: {}",
                NexmarkQueries.ALL.size(), streamTables.size(), BATCHES, EVENTS / 4, refused.keySet());
    }

    private static void check(Db db, List<String> streamTables, String when) {
        Map<String, List<String>> wrong = new LinkedHashMap<>();
        for (String name : streamTables) {
            List<String> d = Oracle.differences(db, name);
            if (!d.isEmpty()) {
                wrong.put(name, d.subList(0, Math.min(5, d.size())));
            }
        }
        assertThat(wrong).as("stream tables differing from their query " + when).isEmpty();
    }
}
