-- The read-only SQL API (docs/SQL_API.md, "Inspection"): re-created by every install, right after
-- routines.sql. Callers need USAGE on schema pgtrickle and SELECT on its catalog tables, nothing
-- more. Change buffers (schema pgtrickle_changes) are not readable by PUBLIC: the two routines that
-- look into them, _has_pending_work and change_buffer_sizes, are SECURITY DEFINER with a pinned
-- search_path, qualify every name, and take no name to resolve (ids only, or no argument).

-- 'schema.name' with each part quoted only where needed, as the Java API displays it and as
-- pgtrickle._resolve reads it back.
CREATE OR REPLACE FUNCTION pgtrickle._display_name(p_schema text, p_name text)
RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT quote_ident(p_schema) || '.' || quote_ident(p_name)
$$;

-- Length of a refresh in milliseconds; NULL while it runs.
CREATE OR REPLACE FUNCTION pgtrickle._duration_ms(p_start timestamptz, p_end timestamptz)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT (extract(epoch FROM p_end - p_start) * 1000)::double precision
$$;

-- The period of a duration schedule in seconds, the way io.pgtrickle.core.schedule.Schedule reads
-- it: '500ms', '30s', '5m', '1h30m' (units ms, s, m, h, d, w) or a bare integer of seconds.
-- NULL for cron expressions, 'calculated' and NULL (calculated).
CREATE OR REPLACE FUNCTION pgtrickle._schedule_seconds(p_schedule text)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN s ~ '^[0-9]+$' THEN s::double precision
        WHEN s ~ '^([0-9]+(ms|s|m|h|d|w))+$' THEN
            (SELECT sum(p[1]::double precision * CASE p[2] WHEN 'ms' THEN 0.001 WHEN 's' THEN 1 WHEN 'm' THEN 60
                                                           WHEN 'h' THEN 3600 WHEN 'd' THEN 86400 ELSE 604800 END)
               FROM regexp_matches(s, '([0-9]+)(ms|s|m|h|d|w)', 'g') AS p)
        END
      FROM (SELECT lower(btrim(p_schedule)) AS s) AS t
$$;

-- A setting's text as a number when it is a plain decimal one: at most 100 digits before and after
-- the point and an exponent of at most two digits, so that the cast can neither overflow nor
-- underflow; NULL otherwise. Lets the readers below skip the subtransaction of a block with an
-- EXCEPTION clause for the values people write: a refresh read one or two such settings, through
-- two such blocks each, whenever they were set. POSIX classes, not backslashes: the body is parsed
-- at each call, under the caller's standard_conforming_strings; matched under the C collation,
-- where [[:space:]] is ASCII white space only, the only one the cast skips (a no-break or
-- ideographic space matched under a UTF-8 or ICU collation, and the cast then failed).
DO $$
BEGIN
    IF (SELECT prorettype FROM pg_proc WHERE oid = to_regprocedure('pgtrickle._plain_number(text)')) = 'numeric'::regtype THEN
        DROP FUNCTION pgtrickle._plain_number(text);  -- briefly on main (66c1c6c)
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION pgtrickle._plain_number(p_text text)
RETURNS double precision LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN (p_text COLLATE "C") OPERATOR(pg_catalog.~)
                     '^[[:space:]]*[-+]?([0-9]{1,100}([.][0-9]{0,100})?|[.][0-9]{1,100})([eE][-+]?[0-9]{1,2})?[[:space:]]*$'
                THEN p_text::pg_catalog.float8 END
$$;

-- A numeric pg_trickle.* setting: the default when unset or empty, an error naming the setting,
-- the value and the allowed range otherwise (as Setting.currentNumber does in Java).
CREATE OR REPLACE FUNCTION pgtrickle._setting_number(
    p_name text, p_default double precision, p_min double precision, p_max double precision, p_allowed text)
RETURNS double precision LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_text text := btrim(current_setting(p_name, true));
    v_plain double precision := pgtrickle._plain_number(v_text);
    v_value double precision;
BEGIN
    IF coalesce(v_text, '') = '' THEN
        RETURN p_default;
    END IF;
    IF v_plain IS NOT NULL THEN
        v_value := v_plain;
    ELSE
        BEGIN
            v_value := v_text::double precision;
        EXCEPTION WHEN data_exception THEN
            v_value := NULL;
        END;
    END IF;
    IF v_value IS NULL OR NOT (v_value >= p_min AND v_value <= p_max) THEN
        RAISE EXCEPTION 'invalid value for %: ''%''', p_name, v_text USING ERRCODE = '22023',
            HINT = 'Allowed: ' || p_allowed || '. Fix it with SET, ALTER DATABASE ... SET or ALTER SYSTEM SET.';
    END IF;
    RETURN v_value;
END
$$;

-- Whether a stream table has something its next refresh would pick up: a first population or a
-- reinitialisation, a source whose changes are not captured (pgtrickle._uncaptured_sources: refreshed every
-- period), or captured changes after its frontier. The scheduler refreshes only such stream
-- tables, so a quiet one keeps its old last_refresh_at while being current.
CREATE OR REPLACE FUNCTION pgtrickle._has_pending_work(p_pgt_id bigint)
RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    v_found boolean;
BEGIN
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables
                WHERE pgt_id = p_pgt_id AND (NOT is_populated OR needs_reinit))
       OR EXISTS (SELECT 1 FROM pgtrickle._uncaptured_sources(p_pgt_id)) THEN
        RETURN true;
    END IF;
    FOR r IN
        SELECT ct.buffer_store, f.frontier
          FROM pgtrickle.pgt_source_frontiers f
          JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = f.source_relid
         WHERE f.pgt_id = p_pgt_id
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE __pgt_xid >= coalesce(pg_snapshot_xmin($1), ''0'')'
                       || ' AND ($1 IS NULL OR NOT pg_visible_in_snapshot(__pgt_xid, $1)))',
                       r.buffer_store)
          INTO v_found USING r.frontier;
        IF v_found THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- One row per stream table. scc_id is always NULL: stream tables here may not form cycles.
CREATE OR REPLACE FUNCTION pgtrickle.pgt_status()
RETURNS TABLE(name text, status text, refresh_mode text, is_populated boolean, consecutive_errors integer,
              schedule text, data_timestamp timestamptz, staleness interval, scc_id integer)
LANGUAGE sql STABLE AS $$
    SELECT pgtrickle._display_name(s.pgt_schema, s.pgt_name), s.status, s.refresh_mode, s.is_populated,
           s.consecutive_errors, coalesce(s.schedule, 'calculated'), s.data_timestamp, now() - s.last_refresh_at,
           NULL::integer
      FROM pgtrickle.pgt_stream_tables s
     ORDER BY s.pgt_schema, s.pgt_name
$$;

-- Every column of pgt_stream_tables, then staleness (time since the last refresh), stale and
-- is_topk (always false: no TopK stream tables yet). stale is NULL for cron and calculated
-- schedules and before the first refresh; otherwise true when the last refresh is older than the
-- period and there is work pending (_has_pending_work), since a stream table whose sources did not
-- change is not refreshed and is current however old its last refresh.
--
-- CREATE OR REPLACE VIEW can only append columns, so a view whose columns no longer match the
-- table (a migration added one) is dropped first. A migration that drops, renames or retypes a
-- column of pgt_stream_tables must drop this view itself; the install re-creates it.
DO $$
DECLARE
    v_view regclass := to_regclass('pgtrickle.stream_tables_info');
BEGIN
    IF v_view IS NOT NULL
       AND (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = v_view AND attnum > 0 AND NOT attisdropped)
           IS DISTINCT FROM
           (SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = 'pgtrickle.pgt_stream_tables'::regclass AND attnum > 0 AND NOT attisdropped)
           || ARRAY['staleness', 'stale', 'is_topk'] THEN
        DROP VIEW pgtrickle.stream_tables_info;
    END IF;
END
$$;

CREATE OR REPLACE VIEW pgtrickle.stream_tables_info AS
SELECT s.*,
       now() - s.last_refresh_at AS staleness,
       CASE WHEN pgtrickle._schedule_seconds(s.schedule) IS NULL OR s.last_refresh_at IS NULL THEN NULL
            WHEN now() - s.last_refresh_at <= make_interval(secs => pgtrickle._schedule_seconds(s.schedule)) THEN false
            ELSE pgtrickle._has_pending_work(s.pgt_id) END AS stale,
       false AS is_topk
  FROM pgtrickle.pgt_stream_tables s;

-- At most p_max_rows (NULL: no limit); a negative count is an error, not an empty answer.
CREATE OR REPLACE FUNCTION pgtrickle._row_limit(p_max_rows integer)
RETURNS integer LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_max_rows < 0 THEN
        RAISE EXCEPTION 'max_rows must not be negative (got %)', p_max_rows USING ERRCODE = '22023',
            HINT = 'Pass 0 or more, or NULL for every row.';
    END IF;
    RETURN p_max_rows;
END
$$;

-- The refreshes of one stream table, newest first.
CREATE OR REPLACE FUNCTION pgtrickle.get_refresh_history(name text, max_rows integer DEFAULT 20)
RETURNS TABLE(refresh_id bigint, data_timestamp timestamptz, start_time timestamptz, end_time timestamptz,
              action text, status text, rows_inserted bigint, rows_deleted bigint, duration_ms double precision,
              error_message text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
    v_id bigint := pgtrickle._resolve(name);
BEGIN
    RETURN QUERY
        SELECT h.refresh_id, h.data_timestamp, h.start_time, h.end_time, h.action, h.status, h.rows_inserted,
               h.rows_deleted, pgtrickle._duration_ms(h.start_time, h.end_time), h.error_message
          FROM pgtrickle.pgt_refresh_history h
         WHERE h.pgt_id = v_id
         ORDER BY h.start_time DESC, h.refresh_id DESC
         LIMIT pgtrickle._row_limit(max_rows);
END
$$;

-- The refreshes of every stream table, newest first.
CREATE OR REPLACE FUNCTION pgtrickle.refresh_timeline(max_rows integer DEFAULT 50)
RETURNS TABLE(start_time timestamptz, stream_table text, action text, status text, rows_inserted bigint,
              rows_deleted bigint, duration_ms double precision, error_message text)
LANGUAGE sql STABLE AS $$
    SELECT h.start_time, pgtrickle._display_name(s.pgt_schema, s.pgt_name), h.action, h.status, h.rows_inserted,
           h.rows_deleted, pgtrickle._duration_ms(h.start_time, h.end_time), h.error_message
      FROM pgtrickle.pgt_refresh_history h
      JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = h.pgt_id
     ORDER BY h.start_time DESC, h.refresh_id DESC
     LIMIT pgtrickle._row_limit(max_rows)
$$;

-- One row per (stream table, captured source). pending_rows counts the rows in the source's change
-- buffer, which every reader of the source shares: rows some reader has not consumed yet (exact up
-- to 100,000, PostgreSQL's estimate above; see _change_buffer_rows). buffer_bytes is the buffer's
-- size on disk, indexes included.
CREATE OR REPLACE FUNCTION pgtrickle.change_buffer_sizes()
RETURNS TABLE(stream_table text, source_table text, source_oid bigint, cdc_mode text, pending_rows bigint,
              buffer_bytes bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pgtrickle._display_name(s.pgt_schema, s.pgt_name), b.source_table, d.source_relid::bigint,
           lower(d.cdc_mode), b.pending_rows, coalesce(pg_total_relation_size(to_regclass(ct.buffer_store)), 0)
      FROM pgtrickle.pgt_dependencies d
      JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = d.pgt_id
      JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = d.source_relid
      JOIN pgtrickle._change_buffer_rows() b ON b.buffer_table = ct.buffer_table
     ORDER BY s.pgt_schema, s.pgt_name, b.source_table
$$;

-- One health_check row: OK with p_ok when nothing is listed, else p_severity and the first 20 items.
CREATE OR REPLACE FUNCTION pgtrickle._health_row(
    p_check text, p_severity text, p_items text[], p_ok text, p_problem text,
    OUT check_name text, OUT severity text, OUT detail text)
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_check,
           CASE WHEN coalesce(cardinality(p_items), 0) = 0 THEN 'OK' ELSE p_severity END,
           CASE WHEN coalesce(cardinality(p_items), 0) = 0 THEN p_ok
                ELSE cardinality(p_items) || ' ' || p_problem || ': ' || array_to_string(p_items[1:20], ', ')
                     || CASE WHEN cardinality(p_items) > 20 THEN ', and ' || (cardinality(p_items) - 20) || ' more'
                             ELSE '' END END
$$;

-- One row per check, always in this order; severity OK, WARN or ERROR.
CREATE OR REPLACE FUNCTION pgtrickle.health_check()
RETURNS TABLE(check_name text, severity text, detail text)
LANGUAGE sql STABLE AS $$
    WITH st AS (
        SELECT pgtrickle._display_name(i.pgt_schema, i.pgt_name) AS st_name, i.*
          FROM pgtrickle.stream_tables_info i
    ),
    -- The daemon leading this database holds a session advisory lock on the bigint key 1346851916
    -- ('PGTL', io.pgtrickle.core.schedule.LeaderLock.KEY): classid = key >> 32, objid = its low 32 bits.
    leader AS (
        SELECT min(l.pid) AS pid
          FROM pg_locks l
         WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
           AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
           AND l.classid = (1346851916::bigint >> 32)::oid AND l.objid = (1346851916::bigint & 4294967295)::oid
    ),
    checks AS (
        SELECT 1 AS ord, 'scheduler_running' AS check_name,
               CASE WHEN leader.pid IS NULL THEN 'ERROR' WHEN NOT pgtrickle._scheduler_enabled() THEN 'WARN'
                    ELSE 'OK' END AS severity,
               CASE WHEN leader.pid IS NULL
                        THEN 'no pgtrickle daemon leads this database (nobody holds advisory lock 1346851916): '
                             || 'scheduled refreshes do not run; start one with pgtrickle serve'
                    WHEN NOT pgtrickle._scheduler_enabled()
                        THEN 'the leading daemon (backend pid ' || leader.pid || ') runs, but pg_trickle.enabled = off '
                             || 'stops scheduled refreshes'
                    ELSE 'a daemon leads this database (backend pid ' || leader.pid || ')' END AS detail
          FROM leader
        UNION ALL
        SELECT 2, h.* FROM pgtrickle._health_row('error_tables', 'ERROR',
            ARRAY(SELECT st_name || ' (' || status || coalesce(': ' || left(last_error_message, 200), '') || ')'
                    FROM st WHERE status IN ('ERROR', 'SUSPENDED') ORDER BY st_name),
            'no stream table is in ERROR or SUSPENDED',
            'stream table(s) in ERROR or SUSPENDED (fix the cause, then resume)') h
        UNION ALL
        SELECT 3, h.* FROM pgtrickle._health_row('stale_tables', 'WARN',
            ARRAY(SELECT st_name || ' (last refresh ' || date_trunc('second', staleness) || ' ago, schedule '
                         || schedule || ')'
                    FROM st WHERE status = 'ACTIVE' AND stale ORDER BY st_name),
            'no active stream table is behind its schedule',
            'active stream table(s) behind their schedule with changes pending') h
        UNION ALL
        SELECT 4, h.* FROM pgtrickle._health_row('needs_reinit', 'WARN',
            ARRAY(SELECT st_name || coalesce(' (' || reinit_reason || ')', '')
                    FROM st WHERE needs_reinit ORDER BY st_name),
            'no stream table awaits reinitialisation',
            'stream table(s) await a full reinitialisation at their next refresh') h
        UNION ALL
        SELECT 5, h.* FROM pgtrickle._health_row('consecutive_errors', 'WARN',
            ARRAY(SELECT st_name || ' (' || consecutive_errors || ')'
                    FROM st WHERE consecutive_errors > 0 AND status NOT IN ('ERROR', 'SUSPENDED')
                   ORDER BY consecutive_errors DESC, st_name),
            'no stream table is failing',
            'stream table(s) failing repeatedly, SUSPENDED after pg_trickle.max_consecutive_errors') h
        UNION ALL
        SELECT 6, h.* FROM pgtrickle._health_row('buffer_growth', 'WARN',
            ARRAY(SELECT source_table || ' (' || max(pending_rows) || ' rows, read by '
                         || string_agg(stream_table, ', ' ORDER BY stream_table) || ')'
                    FROM pgtrickle.change_buffer_sizes()
                   GROUP BY source_table HAVING max(pending_rows) > 10000
                   ORDER BY max(pending_rows) DESC, source_table),
            'no change buffer holds more than 10,000 rows',
            'change buffer(s) with more than 10,000 rows waiting') h
    )
    SELECT c.check_name, c.severity, c.detail FROM checks c ORDER BY c.ord
$$;

-- The explain output stored when the stream table was compiled, as StreamTables.explain returns it.
CREATE OR REPLACE FUNCTION pgtrickle.explain_stream_table(name text, format text DEFAULT 'text')
RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_format text := lower(btrim(format));
    v_id bigint;
    v_name text;
    v_out text;
BEGIN
    IF v_format IS NULL OR v_format NOT IN ('text', 'json', 'dot') THEN
        RAISE EXCEPTION 'unknown explain format %', coalesce(quote_literal(format), 'NULL') USING ERRCODE = '22023',
            HINT = 'Use ''text'' (the default), ''json'' or ''dot''.';
    END IF;
    v_id := pgtrickle._resolve(name);
    SELECT pgtrickle._display_name(s.pgt_schema, s.pgt_name),
           CASE v_format WHEN 'text' THEN s.explain_text WHEN 'json' THEN s.explain_json::text ELSE s.explain_dot END
      INTO v_name, v_out
      FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = v_id;
    IF v_out IS NULL THEN
        RAISE EXCEPTION 'stream table % has no explain output', v_name USING ERRCODE = '55000',
            HINT = 'It was created by an older release; recreate it with create_or_replace.';
    END IF;
    RETURN v_out;
END
$$;

-- Per stream table over the last pg_trickle.sla_window_hours (refreshes that started in it):
-- p50_ms and p99_ms over the durations of COMPLETED refreshes (NO_DATA included: they are what a
-- reader waits for too); error_rate = FAILED / (COMPLETED + FAILED); error_budget_remaining =
-- 1 - error_rate / (1 - pg_trickle.sla_target), clamped to [0, 1] (with a target of 1, any failure
-- spends it all). All three are NULL without a finished refresh in the window. freshness_lag_s is
-- the time since the last refresh, NULL if never refreshed.
CREATE OR REPLACE FUNCTION pgtrickle.sla_summary()
RETURNS TABLE(stream_table text, p50_ms double precision, p99_ms double precision, freshness_lag_s double precision,
              error_rate double precision, error_budget_remaining double precision)
LANGUAGE sql STABLE AS $$
    WITH cfg AS (
        SELECT pgtrickle._setting_number('pg_trickle.sla_window_hours', {{default:pg_trickle.sla_window_hours}},
                                         0.1, 8760, 'number of hours, 0.1-8760') AS window_hours,
               pgtrickle._setting_number('pg_trickle.sla_target', {{default:pg_trickle.sla_target}},
                                         0, 1, 'number, 0-1') AS target
    ),
    finished AS (
        SELECT h.pgt_id, h.status, pgtrickle._duration_ms(h.start_time, h.end_time) AS ms
          FROM pgtrickle.pgt_refresh_history h, cfg
         WHERE h.start_time >= now() - make_interval(secs => cfg.window_hours * 3600)
           AND h.status IN ('COMPLETED', 'FAILED')
    ),
    per_st AS (
        SELECT f.pgt_id,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY f.ms) FILTER (WHERE f.status = 'COMPLETED') AS p50,
               percentile_cont(0.99) WITHIN GROUP (ORDER BY f.ms) FILTER (WHERE f.status = 'COMPLETED') AS p99,
               (count(*) FILTER (WHERE f.status = 'FAILED'))::double precision / count(*) AS error_rate
          FROM finished f
         GROUP BY f.pgt_id
    )
    SELECT pgtrickle._display_name(s.pgt_schema, s.pgt_name), p.p50, p.p99,
           extract(epoch FROM now() - s.last_refresh_at)::double precision, p.error_rate,
           CASE WHEN p.error_rate IS NULL THEN NULL
                WHEN p.error_rate = 0 THEN 1
                WHEN cfg.target >= 1 THEN 0
                ELSE greatest(0, least(1, 1 - p.error_rate / (1 - cfg.target))) END
      FROM pgtrickle.pgt_stream_tables s
     CROSS JOIN cfg
      LEFT JOIN per_st p ON p.pgt_id = s.pgt_id
     ORDER BY s.pgt_schema, s.pgt_name
$$;

-- Everything above is meant for every role that may read the catalog. Functions are executable by
-- PUBLIC unless revoked; the grants say so explicitly and restore it at every install.
GRANT SELECT ON pgtrickle.stream_tables_info TO PUBLIC;
GRANT EXECUTE ON FUNCTION
    pgtrickle._display_name(text, text),
    pgtrickle._duration_ms(timestamptz, timestamptz),
    pgtrickle._schedule_seconds(text),
    pgtrickle._setting_number(text, double precision, double precision, double precision, text),
    pgtrickle._has_pending_work(bigint),
    pgtrickle._row_limit(integer),
    pgtrickle._health_row(text, text, text[], text, text),
    pgtrickle.pgt_status(),
    pgtrickle.get_refresh_history(text, integer),
    pgtrickle.refresh_timeline(integer),
    pgtrickle.change_buffer_sizes(),
    pgtrickle.health_check(),
    pgtrickle.explain_stream_table(text, text),
    pgtrickle.sla_summary()
    TO PUBLIC;
