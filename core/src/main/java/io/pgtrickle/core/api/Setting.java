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
    BLOCK_SOURCE_DDL("pg_trickle.block_source_ddl", "on", "boolean",
            "Refuses an ALTER TABLE that drops, renames or retypes a column a stream table reads (or its change "
                    + "capture records), or renames or moves such a table (SQLSTATE 2BP01, naming the stream tables). "
                    + "off: the change goes through; every stream table reading the table is reinitialised on its next "
                    + "refresh, and when captured columns changed, capture of the table stops and its readers are "
                    + "refreshed FULL until one of them is created or replaced again. IMMEDIATE readers always refuse "
                    + "it. A rewrite of the table's rows (ALTER COLUMN ... TYPE, of any column) reinitialises its readers "
                    + "whatever the setting. Needs the event triggers, which only a superuser's install creates."),
    MAX_CONSECUTIVE_ERRORS("pg_trickle.max_consecutive_errors", "3", "integer, 1-100",
            "Retryable refresh failures in a row after which a stream table is SUSPENDED (alert auto_suspended "
                    + "on channel pgtrickle_alert). A non-retryable failure (by SQLSTATE) sets ERROR at once (alert "
                    + "refresh_failed). Lock and serialisation failures are retried but do not count."),
    FORCE_FULL_REFRESH("pg_trickle.force_full_refresh", "off", "boolean",
            "Every refresh is FULL while on, whatever the stream table's mode (debugging, recovery). The history "
                    + "records the reason and DIFFERENTIAL stream tables raise a NOTICE."),
    DIFFERENTIAL_MAX_CHANGE_RATIO("pg_trickle.differential_max_change_ratio", "0.5", "number, 0-1 (0 = off)",
            "A DIFFERENTIAL refresh whose pending change rows exceed this fraction of its sources' rows "
                    + "(pg_class.reltuples, at least 1000) is done as FULL instead, with the reason recorded."),
    COST_MODEL_SAFETY_MARGIN("pg_trickle.cost_model_safety_margin", "0.8", "number, 0-10 (0 = off)",
            "The cost guard of DIFFERENTIAL refreshes: a refresh is done as FULL instead, with the reason recorded, "
                    + "when the newest three differential refreshes among the stream table's last 200 that found changes, "
                    + "with at most a quarter more change rows than this one, took a median of at least 50 ms and at "
                    + "least this factor times the last FULL refresh (scaled by the sources' rows then and now), and "
                    + "the newest of them is among the last 50 (so one differential refresh in 50 measures again). "
                    + "Below 1 it prefers FULL, above 1 DIFFERENTIAL."),
    DEFAULT_SCHEDULE_SECONDS("pg_trickle.default_schedule_seconds", "1", "number of seconds, >= 0.1",
            "Period of a 'calculated' stream table that no other stream table with a duration schedule reads."),
    INTERNAL_REFRESH("pg_trickle.internal_refresh", "off", "boolean (internal)",
            "Set locally by the refresh while it writes a stream table's storage; any other write is refused. "
                    + "Do not set it yourself."),
    EVENT_DRIVEN_WAKE("pg_trickle.event_driven_wake", "on", "boolean",
            "Capture triggers send NOTIFY pgtrickle_wake (payload: the source's 16-hex stable name; one per source "
                    + "and transaction, delivered on commit), so the daemon refreshes at once instead of at its next "
                    + "poll. off: no NOTIFY, which spares the commit-time lock PostgreSQL takes for every notifying "
                    + "transaction under very heavy write loads; the daemon then finds changes by polling."),
    SCHEDULER_INTERVAL_MS("pg_trickle.scheduler_interval_ms", "1000", "integer milliseconds, 100-600000",
            "Longest sleep of the daemon's scheduler when nothing is due and no change notification arrives. "
                    + "Read when the daemon starts or becomes leader."),
    HISTORY_RETENTION_DAYS("pg_trickle.history_retention_days", "7", "number of days, 0-36500 (0 = keep all)",
            "The daemon deletes pgt_refresh_history rows that started longer ago than this, in batches of at most "
                    + "10,000 rows, each its own short transaction."),
    HISTORY_PRUNE_INTERVAL_SECONDS("pg_trickle.history_prune_interval_seconds", "60", "integer seconds, 0-86400 (0 = off)",
            "How often the leading daemon prunes the refresh history. Both history settings are read at every run. "
                    + "Also accepted as pg_trickle.history_prune_interval_s.", "pg_trickle.history_prune_interval_s"),
    REQUEST_TIMEOUT_SECONDS("pg_trickle.request_timeout_seconds", "60", "number of seconds, > 0",
            "How long CALL pgtrickle.create_stream_table(...) and the other SQL procedures that need the daemon wait "
                    + "for it to take up their request; a request still waiting then is withdrawn and the call fails. "
                    + "Once the daemon works on a request, the call waits for its answer however long it takes."),
    IVM_RECURSIVE_MAX_DEPTH("pg_trickle.ivm_recursive_max_depth", "1000", "integer, 0-1000000 (0 = off)",
            "Depth guard of a stream table over a UNION ALL recursion (maintained by re-running it, in every mode): a "
                    + "step deeper than this raises SQLSTATE 54001 instead of running on, as a cycle in the data would "
                    + "make it. A UNION recursion is not guarded: it ends whenever its set of rows is finite. (The "
                    + "original guards IMMEDIATE only, at 100; guarding FULL too, the default leaves room for deep "
                    + "recursions such as a calendar of days.)"),
    SLA_WINDOW_HOURS("pg_trickle.sla_window_hours", "24", "number of hours, 0.1-8760",
            "The window of pgtrickle.sla_summary(): refreshes that started within this many hours. The history "
                    + "goes back pg_trickle.history_retention_days at most."),
    SLA_TARGET("pg_trickle.sla_target", "0.99", "number, 0-1",
            "Share of refreshes meant to succeed, for pgtrickle.sla_summary(): error_budget_remaining = "
                    + "1 - error_rate / (1 - sla_target), clamped to 0-1 (1: no failure in the window, 0: budget "
                    + "spent; with a target of 1 any failure spends it all).");

    private final String name;
    private final String defaultValue;
    private final String type;
    private final String description;
    /** A second name read when the setting itself is not set; null for none. */
    private final String alias;

    Setting(String name, String defaultValue, String type, String description) {
        this(name, defaultValue, type, description, null);
    }

    Setting(String name, String defaultValue, String type, String description, String alias) {
        this.alias = alias;
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

    /**
     * The value this session sees ({@code current_setting}), or the default when unset or empty.
     * A fresh connection sees database- and role-level values set since the last one.
     */
    public String current(java.sql.Connection conn) throws java.sql.SQLException {
        try (java.sql.PreparedStatement ps = conn.prepareStatement(
                "SELECT coalesce(nullif(current_setting(?, true), ''), nullif(current_setting(?, true), ''))")) {
            ps.setString(1, name);
            ps.setString(2, alias == null ? name : alias);
            try (java.sql.ResultSet rs = ps.executeQuery()) {
                rs.next();
                String v = rs.getString(1);
                return v == null ? defaultValue : v.strip();
            }
        }
    }

    /**
     * {@link #current} as a number within [min, max]; anything else is rejected with the setting's
     * name, the value and the allowed range, never clamped.
     */
    public double currentNumber(java.sql.Connection conn, double min, double max) throws java.sql.SQLException {
        String v = current(conn);
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            d = Double.NaN;
        }
        if (!(d >= min && d <= max)) {
            throw PgtException.invalidArgument("invalid value for " + name + ": '" + v + "'",
                    "Allowed: " + type + ". Fix it with SET, ALTER DATABASE ... SET or ALTER SYSTEM SET.");
        }
        return d;
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
