package io.pgtrickle.server.daemon;

import io.pgtrickle.core.api.RefreshResult;
import java.util.Optional;

/**
 * Why a refresh ran FULL although differential maintenance was the plan: a small, fixed set of
 * label values for the fallback counter (a metric label must not carry free text such as counts).
 *
 * <p>Classifies the reason the refresh procedure records in the history. Those reasons are
 * pg_trickle's own fixed English phrases, written by routines.sql, not server messages, so
 * lc_messages does not change them. Refreshes that are FULL by the user's choice, or the first
 * population, are not fallbacks.
 */
enum FallbackReason {
    UNSUPPORTED_QUERY("unsupported_query"),
    CHANGE_RATIO("change_ratio"),
    COST_GUARD("cost_guard"),
    FORCE_FULL_SETTING("force_full_setting"),
    TRUNCATE("truncate"),
    CAPTURE_PAUSED("capture_paused"),
    NO_FRONTIER("no_frontier"),
    REINITIALIZE("reinitialize");

    private final String label;

    FallbackReason(String label) {
        this.label = label;
    }

    String label() {
        return label;
    }

    static Optional<FallbackReason> of(RefreshResult r) {
        boolean full = "FULL".equals(r.action()) || "REINITIALIZE".equals(r.action());
        String reason = r.reason() == null ? "" : r.reason();
        if (!full || reason.equals("initial population") || reason.equals("full refresh requested")
                || reason.equals("source changes")) {
            return Optional.empty();
        }
        if (reason.startsWith("differential not possible")) {
            return Optional.of(UNSUPPORTED_QUERY);
        }
        if (reason.contains("pg_trickle.differential_max_change_ratio")) {
            return Optional.of(CHANGE_RATIO);
        }
        if (reason.contains("pg_trickle.cost_model_safety_margin")) {
            return Optional.of(COST_GUARD);
        }
        if (reason.contains("pg_trickle.force_full_refresh")) {
            return Optional.of(FORCE_FULL_SETTING);
        }
        if (reason.contains("truncated")) {
            return Optional.of(TRUNCATE);
        }
        if (reason.startsWith("changes were not captured")) {
            return Optional.of(CAPTURE_PAUSED);
        }
        if (reason.equals("no previous frontier")) {
            return Optional.of(NO_FRONTIER);
        }
        return Optional.of(REINITIALIZE); // a reinitialisation asked for by DDL or the user, with its own reason
    }
}
