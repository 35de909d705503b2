package io.pgtrickle.server.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.api.RefreshResult;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The label of the fallback counter, from the refresh procedure's own reasons (routines.sql). */
class FallbackReasonTest {
    private static Optional<String> label(String action, String reason) {
        return FallbackReason.of(new RefreshResult("public.t", 1, action, 0, 0, 0, reason, null, null, "SCHEDULER"))
                .map(FallbackReason::label);
    }

    @Test
    void eachReasonOfTheRefreshProcedureHasALabel() {
        assertThat(label("FULL", "differential not possible: window functions")).contains("unsupported_query");
        assertThat(label("FULL", "2000 changed rows exceed pg_trickle.differential_max_change_ratio (0.5) of the sources"))
                .contains("change_ratio");
        assertThat(label("FULL", "recent differential refreshes of up to 10 change rows took a median of 200.0 ms,"
                + " the last FULL refresh 20.0 ms (pg_trickle.cost_model_safety_margin = 0.8); this one has 8 change rows"))
                .contains("cost_guard");
        assertThat(label("FULL", "pg_trickle.force_full_refresh is on")).contains("force_full_setting");
        assertThat(label("REINITIALIZE", "a source table was truncated")).contains("truncate");
        assertThat(label("REINITIALIZE", "changes were not captured while pg_trickle.cdc_paused or pg_trickle.enabled = off"))
                .contains("capture_paused");
        assertThat(label("FULL", "no previous frontier")).contains("no_frontier");
        assertThat(label("REINITIALIZE", "source view v was replaced")).contains("reinitialize");
    }

    @Test
    void chosenOrFirstFullRefreshesAndDifferentialOnesAreNoFallback() {
        assertThat(label("FULL", "source changes")).isEmpty();          // a FULL-mode stream table
        assertThat(label("FULL", "initial population")).isEmpty();
        assertThat(label("FULL", "full refresh requested")).isEmpty();
        assertThat(label("DIFFERENTIAL", "source changes")).isEmpty();
        assertThat(label("NO_DATA", "no source changes")).isEmpty();
    }
}
