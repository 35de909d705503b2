package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.sql.ResolvedQuery;
import java.util.List;

/**
 * Resolves a requested refresh mode to the one stored: AUTO is never stored (sql-api.md §1.1).
 *
 * <p>This release maintains stream tables by FULL refresh only; the differential engine and
 * IMMEDIATE mode are separate pieces of work. AUTO therefore resolves to FULL with a notice, and
 * an explicit DIFFERENTIAL or IMMEDIATE is refused instead of being silently downgraded.
 */
record ModeResolution(RefreshMode mode, List<String> notices) {

    static ModeResolution resolve(RefreshMode requested, ResolvedQuery query) {
        return switch (requested) {
            case FULL -> new ModeResolution(RefreshMode.FULL, List.of());
            case AUTO -> new ModeResolution(RefreshMode.FULL, List.of(
                    query.volatileFunctions().isEmpty()
                            ? "refresh mode AUTO chose FULL: differential maintenance is not available in this release"
                            : "refresh mode AUTO chose FULL: the query calls volatile functions ("
                              + String.join(", ", query.volatileFunctions()) + ")"));
            case DIFFERENTIAL, IMMEDIATE -> throw new PgtException(ErrorCode.NOT_IMPLEMENTED,
                    "refresh mode " + requested + " is not available in this release",
                    "Use FULL, or AUTO (which uses FULL until differential maintenance is available).");
        };
    }
}
