package io.pgtrickle.core.api;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Every {@code pg_trickle.*} setting the engine reads, defined once: the SQL routines take their
 * defaults from here (the installer substitutes {@code {{default:NAME}}}), and the table in
 * docs/CONFIGURATION.md is generated from it ({@link #markdownTable()}).
 *
 * <p>They are PostgreSQL custom options: settable per session ({@code SET}), per database
 * ({@code ALTER DATABASE ... SET}) or per cluster ({@code ALTER SYSTEM SET} + reload).
 */
public enum Setting {
    ENABLED("pg_trickle.enabled", "on", "boolean",
            "Master switch. off: the scheduler stops refreshing, and capture triggers stop recording row changes "
                    + "(each writing transaction leaves one marker instead, so dependents are fully refreshed "
                    + "next time). Manual refreshes still work."),
    CDC_PAUSED("pg_trickle.cdc_paused", "off", "boolean",
            "Stops capture writes, e.g. during a bulk load; the scheduler keeps running. Changes made while "
                    + "paused are not lost to correctness: every stream table reading the changed sources is "
                    + "reinitialised (FULL) on its next refresh, with the reason in the history."),
    MAX_CONSECUTIVE_ERRORS("pg_trickle.max_consecutive_errors", "3", "integer, 1-100",
            "Retryable refresh failures in a row after which a stream table is SUSPENDED. A non-retryable "
                    + "failure (by SQLSTATE) sets ERROR at once."),
    FORCE_FULL_REFRESH("pg_trickle.force_full_refresh", "off", "boolean",
            "Every refresh is FULL while on, whatever the stream table's mode (debugging, recovery). The history "
                    + "records the reason and DIFFERENTIAL stream tables raise a NOTICE."),
    DIFFERENTIAL_MAX_CHANGE_RATIO("pg_trickle.differential_max_change_ratio", "0.5", "number, 0-1 (0 = off)",
            "A DIFFERENTIAL refresh whose pending change rows exceed this fraction of its sources' rows "
                    + "(pg_class.reltuples, at least 1000) is done as FULL instead, with the reason recorded."),
    DEFAULT_SCHEDULE_SECONDS("pg_trickle.default_schedule_seconds", "1", "number of seconds, >= 0.1",
            "Period of a 'calculated' stream table that no other stream table with a duration schedule reads."),
    INTERNAL_REFRESH("pg_trickle.internal_refresh", "off", "boolean (internal)",
            "Set locally by the refresh while it writes a stream table's storage; any other write is refused. "
                    + "Do not set it yourself.");

    private final String name;
    private final String defaultValue;
    private final String type;
    private final String description;

    Setting(String name, String defaultValue, String type, String description) {
        this.name = name;
        this.defaultValue = defaultValue;
        this.type = type;
        this.description = description;
    }

    public String settingName() {
        return name;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public String type() {
        return type;
    }

    public String description() {
        return description;
    }

    /** The settings table of docs/CONFIGURATION.md. */
    public static String markdownTable() {
        return "| Setting | Default | Type | Meaning |\n|---|---|---|---|\n"
                + Arrays.stream(values())
                        .map(s -> "| `" + s.name + "` | `" + s.defaultValue + "` | " + s.type + " | "
                                + s.description.replace("|", "\\|") + " |")
                        .collect(Collectors.joining("\n")) + "\n";
    }

    /** Replaces {@code {{default:pg_trickle.x}}} in SQL with the setting's default as a literal. */
    public static String substituteDefaults(String sql) {
        String out = sql;
        for (Setting s : values()) {
            out = out.replace("{{default:" + s.name + "}}", s.defaultValue);
        }
        if (out.contains("{{default:")) {
            throw new IllegalStateException("unknown setting in " + out.substring(out.indexOf("{{default:")).lines().findFirst().orElse(""));
        }
        return out;
    }
}
