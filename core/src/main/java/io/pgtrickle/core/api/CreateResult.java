package io.pgtrickle.core.api;

import java.util.List;

/** What create, create_or_replace and create_if_not_exists did, with any notices for the user. */
public record CreateResult(StreamTableInfo streamTable, Outcome outcome, List<String> notices) {
    public enum Outcome { CREATED, UNCHANGED, ALTERED, REPLACED }
}
