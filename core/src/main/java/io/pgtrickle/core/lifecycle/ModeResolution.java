package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.api.ErrorCode;
import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshMode;
import io.pgtrickle.core.dvm.plan.CompiledQuery;
import io.pgtrickle.core.sql.ResolvedQuery;
import java.util.ArrayList;
import java.util.List;

/**
 * Resolves a requested refresh mode to the one stored; AUTO is never stored (sql-api.md §1.1).
 * AUTO becomes DIFFERENTIAL when every operator can be maintained, else FULL with a notice giving
 * the reason; an explicit DIFFERENTIAL that cannot be maintained is refused with the reason.
 */
record ModeResolution(RefreshMode mode, List<String> notices) {

    static ModeResolution resolve(String streamTable, RefreshMode requested, CompiledQuery compiled, ResolvedQuery query) {
        ModeResolution r = resolve(streamTable, requested, compiled.differential() ? null : compiled.unsupported());
        if (r.mode() != RefreshMode.FULL && !query.stableFunctions().isEmpty()) {
            List<String> notices = new ArrayList<>(r.notices());
            notices.add("stream table \"" + streamTable + "\" calls stable functions ("
                    + String.join(", ", query.stableFunctions()) + "): their results are taken at each refresh, "
                    + "so unchanged rows keep the value of the refresh that last touched them");
            return new ModeResolution(r.mode(), notices);
        }
        return r;
    }

    /**
     * The one place a requested mode becomes a stored one, for create and alter alike.
     *
     * @param unsupported why DIFFERENTIAL is not possible, or null when it is
     */
    static ModeResolution resolve(String streamTable, RefreshMode requested, String unsupported) {
        List<String> notices = new ArrayList<>();
        RefreshMode mode = switch (requested) {
            case FULL -> RefreshMode.FULL;
            case AUTO -> {
                if (unsupported == null) {
                    yield RefreshMode.DIFFERENTIAL;
                }
                notices.add("stream table \"" + streamTable + "\" using FULL refresh: " + unsupported);
                yield RefreshMode.FULL;
            }
            case DIFFERENTIAL -> {
                if (unsupported != null) {
                    throw new PgtException(ErrorCode.UNSUPPORTED_QUERY,
                            "stream table \"" + streamTable + "\" cannot be maintained incrementally: " + unsupported,
                            "Use refresh mode AUTO (falls back to FULL) or FULL.");
                }
                yield RefreshMode.DIFFERENTIAL;
            }
            case IMMEDIATE -> {
                // Maintained by the same differential SQL, over the statement's transition rows.
                if (unsupported != null) {
                    throw new PgtException(ErrorCode.UNSUPPORTED_QUERY,
                            "stream table \"" + streamTable + "\" cannot be maintained in IMMEDIATE mode: " + unsupported,
                            "Use refresh mode AUTO (falls back to FULL) or FULL.");
                }
                yield RefreshMode.IMMEDIATE;
            }
        };
        return new ModeResolution(mode, notices);
    }
}
