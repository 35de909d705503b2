-- Catalog version 1: stream tables, dependencies, per-source frontiers, change tracking,
-- refresh history and the request queue of the SQL-API bridge.
CREATE SCHEMA IF NOT EXISTS pgtrickle;
CREATE SCHEMA IF NOT EXISTS pgtrickle_changes;
REVOKE ALL ON SCHEMA pgtrickle_changes FROM PUBLIC;

CREATE TABLE pgtrickle.pgt_stream_tables (
    pgt_id                 bigserial PRIMARY KEY,
    pgt_relid              oid NOT NULL UNIQUE,
    pgt_schema             text NOT NULL,
    pgt_name               text NOT NULL,
    defining_query         text NOT NULL,
    original_query         text,
    schedule               text,
    refresh_mode           text NOT NULL DEFAULT 'DIFFERENTIAL'
                           CHECK (refresh_mode IN ('FULL', 'DIFFERENTIAL', 'IMMEDIATE')),
    requested_refresh_mode text NOT NULL DEFAULT 'AUTO',
    status                 text NOT NULL DEFAULT 'INITIALIZING'
                           CHECK (status IN ('INITIALIZING', 'ACTIVE', 'PAUSED', 'SUSPENDED', 'ERROR')),
    is_populated           boolean NOT NULL DEFAULT false,
    data_timestamp         timestamptz,
    frontier               pg_snapshot,
    last_refresh_at        timestamptz,
    consecutive_errors     integer NOT NULL DEFAULT 0,
    needs_reinit           boolean NOT NULL DEFAULT false,
    reinit_reason          text,
    auto_threshold         double precision,
    last_full_ms           double precision,
    has_keyless_source     boolean NOT NULL DEFAULT false,
    functions_used         text[],
    effective_refresh_mode text,
    columns                jsonb NOT NULL,
    full_sql               text NOT NULL,
    full_apply_sql         text NOT NULL,
    last_error_message     text,
    last_error_sqlstate    text,
    last_error_at          timestamptz,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (pgt_schema, pgt_name)
);
CREATE INDEX pgt_stream_tables_status_idx ON pgtrickle.pgt_stream_tables (status);

CREATE TABLE pgtrickle.pgt_dependencies (
    pgt_id        bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    source_relid  oid NOT NULL,
    source_type   text NOT NULL CHECK (source_type IN ('TABLE', 'STREAM_TABLE', 'VIEW', 'MATVIEW', 'FOREIGN_TABLE')),
    source_schema text NOT NULL,
    source_name   text NOT NULL,
    columns_used  text[],
    cdc_mode      text NOT NULL DEFAULT 'TRIGGER' CHECK (cdc_mode IN ('TRIGGER', 'TRANSITIONING', 'WAL', 'NONE')),
    PRIMARY KEY (pgt_id, source_relid)
);
CREATE INDEX pgt_dependencies_source_idx ON pgtrickle.pgt_dependencies (source_relid);

-- One capture installation per source table, shared by every stream table that reads it.
CREATE TABLE pgtrickle.pgt_change_tracking (
    source_relid       oid PRIMARY KEY,
    source_stable_name text NOT NULL UNIQUE,
    buffer_table       text NOT NULL,
    captured_columns   text[] NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now()
);

-- The snapshot up to which each stream table has consumed each source's changes.
CREATE TABLE pgtrickle.pgt_source_frontiers (
    pgt_id       bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    source_relid oid NOT NULL,
    frontier     pg_snapshot,
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (pgt_id, source_relid)
);
CREATE INDEX pgt_source_frontiers_source_idx ON pgtrickle.pgt_source_frontiers (source_relid);

CREATE TABLE pgtrickle.pgt_refresh_history (
    refresh_id         bigserial PRIMARY KEY,
    pgt_id             bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables ON DELETE CASCADE,
    data_timestamp     timestamptz NOT NULL,
    start_time         timestamptz NOT NULL,
    end_time           timestamptz,
    action             text NOT NULL CHECK (action IN ('NO_DATA', 'FULL', 'DIFFERENTIAL', 'REINITIALIZE', 'SKIP')),
    rows_inserted      bigint NOT NULL DEFAULT 0,
    rows_deleted       bigint NOT NULL DEFAULT 0,
    delta_row_count    bigint NOT NULL DEFAULT 0,
    was_full_fallback  boolean NOT NULL DEFAULT false,
    refresh_reason     text,
    error_message      text,
    error_sqlstate     text,
    status             text NOT NULL CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED')),
    initiated_by       text NOT NULL CHECK (initiated_by IN ('SCHEDULER', 'MANUAL', 'INITIAL', 'SELF_MONITOR'))
);
CREATE INDEX pgt_refresh_history_pgt_start_idx ON pgtrickle.pgt_refresh_history (pgt_id, start_time);
CREATE INDEX pgt_refresh_history_start_time_idx ON pgtrickle.pgt_refresh_history (start_time DESC);

-- Requests handed to the running daemon by the SQL API (create, alter_query).
CREATE TABLE pgtrickle.pgt_requests (
    request_id    bigserial PRIMARY KEY,
    kind          text NOT NULL,
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED')),
    result        jsonb,
    error_sqlstate text,
    error_message text,
    error_hint    text,
    requested_by  text NOT NULL DEFAULT current_user,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz
);
CREATE INDEX pgt_requests_pending_idx ON pgtrickle.pgt_requests (request_id) WHERE status = 'PENDING';
