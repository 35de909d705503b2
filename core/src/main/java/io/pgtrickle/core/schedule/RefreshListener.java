package io.pgtrickle.core.schedule;

import io.pgtrickle.core.api.PgtException;
import io.pgtrickle.core.api.RefreshResult;

/** Told about every refresh the scheduler runs; called on the scheduler's thread, so keep it quick. */
public interface RefreshListener {
    void refreshed(RefreshResult result);

    default void failed(String streamTable, PgtException error) {
    }

    RefreshListener NONE = r -> { };
}
