-- Routines of the catalog: re-created by every install (CREATE OR REPLACE), so a fixed
-- routine reaches every database without a catalog version bump. Tables live in migrations/.

-- A boolean pg_trickle.* setting, read the way PostgreSQL parses booleans.
CREATE OR REPLACE FUNCTION pgtrickle._setting_on(p_name text, p_default boolean)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE lower(btrim(coalesce(current_setting(p_name, true), '')))
        WHEN '' THEN p_default
        WHEN 'on' THEN true WHEN 'true' THEN true WHEN 'yes' THEN true WHEN '1' THEN true WHEN 't' THEN true WHEN 'y' THEN true
        WHEN 'off' THEN false WHEN 'false' THEN false WHEN 'no' THEN false WHEN '0' THEN false WHEN 'f' THEN false WHEN 'n' THEN false
        ELSE p_default END
$$;

-- Capture is off when pg_trickle.enabled = false or pg_trickle.cdc_paused = true.
CREATE OR REPLACE FUNCTION pgtrickle._capture_enabled()
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pgtrickle._setting_on('pg_trickle.enabled', '{{default:pg_trickle.enabled}}'::boolean)
       AND NOT pgtrickle._setting_on('pg_trickle.cdc_paused', '{{default:pg_trickle.cdc_paused}}'::boolean)
$$;

-- Storage tables are written only by the engine, which sets pg_trickle.internal_refresh locally.
CREATE OR REPLACE FUNCTION pgtrickle._guard_storage()
RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('pg_trickle.internal_refresh', true) IS DISTINCT FROM 'on' THEN
        RAISE EXCEPTION 'cannot % stream table %.%: its contents are maintained by pg_trickle',
                CASE TG_OP WHEN 'INSERT' THEN 'insert into' WHEN 'DELETE' THEN 'delete from' ELSE lower(TG_OP) END,
                quote_ident(TG_TABLE_SCHEMA), quote_ident(TG_TABLE_NAME)
            USING ERRCODE = '42809',
                  HINT = 'Change the source tables and refresh, or change the defining query with alter.';
    END IF;
    RETURN NULL;
END
$$;

-- The snapshot a refresh stores as its frontier: the current snapshot, plus this transaction's own
-- xid when it has one. Changes this transaction made to sources are read by the refresh, so they
-- must count as consumed; pg_current_snapshot() alone would list them as not yet visible.
CREATE OR REPLACE FUNCTION pgtrickle._frontier_snapshot()
RETURNS pg_snapshot LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_snap  pg_snapshot := pg_current_snapshot();
    v_self  xid8 := pg_current_xact_id_if_assigned();
    v_xmin  xid8;
    v_xmax  xid8;
    v_xip   xid8[];
BEGIN
    IF v_self IS NULL OR pg_visible_in_snapshot(v_self, v_snap) THEN
        RETURN v_snap;
    END IF;
    v_xmin := pg_snapshot_xmin(v_snap);
    v_xmax := pg_snapshot_xmax(v_snap);
    SELECT coalesce(array_agg(x ORDER BY x), '{}') INTO v_xip
      FROM pg_snapshot_xip(v_snap) AS x WHERE x <> v_self;
    IF v_self >= v_xmax THEN
        -- Every xid between the old xmax and ours was not visible: keep it that way.
        SELECT v_xip || coalesce(array_agg(g::text::xid8 ORDER BY g), '{}') INTO v_xip
          FROM generate_series(v_xmax::text::numeric, v_self::text::numeric - 1) AS g;
        v_xmax := (v_self::text::numeric + 1)::text::xid8;
    END IF;
    IF v_xmin = v_self THEN
        v_xmin := coalesce((SELECT min(x) FROM unnest(v_xip) AS x), v_xmax);
    END IF;
    RETURN (v_xmin::text || ':' || v_xmax::text || ':' || array_to_string(v_xip, ','))::pg_snapshot;
END
$$;

-- Summary of the captured changes of one stream table's sources between its frontier and now.
CREATE OR REPLACE FUNCTION pgtrickle._pending_changes(
    p_pgt_id bigint, p_now pg_snapshot,
    OUT change_rows bigint, OUT truncated boolean, OUT capture_lost boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    v_rows bigint; v_trunc boolean; v_lost boolean;
BEGIN
    change_rows := 0; truncated := false; capture_lost := false;
    FOR r IN
        SELECT ct.buffer_table, f.frontier
          FROM pgtrickle.pgt_source_frontiers f
          JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = f.source_relid
         WHERE f.pgt_id = p_pgt_id
    LOOP
        EXECUTE format(
            'SELECT count(*), coalesce(bool_or(__pgt_action = ''T''), false), coalesce(bool_or(__pgt_action = ''P''), false)
               FROM %s
              WHERE pg_visible_in_snapshot(__pgt_xid, $1)
                AND ($2 IS NULL OR NOT pg_visible_in_snapshot(__pgt_xid, $2))', r.buffer_table)
          INTO v_rows, v_trunc, v_lost
          USING p_now, r.frontier;
        change_rows := change_rows + v_rows;
        truncated := truncated OR v_trunc;
        capture_lost := capture_lost OR v_lost;
    END LOOP;
END
$$;

-- Stream tables that are active, have a schedule to keep and something to do: changes captured
-- after their frontier, or a pending (re)initialisation. The scheduler asks this once per tick.
CREATE OR REPLACE FUNCTION pgtrickle._stream_tables_with_work()
RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    st record;
    r record;
    v_found boolean;
BEGIN
    FOR st IN SELECT pgt_id, is_populated, needs_reinit FROM pgtrickle.pgt_stream_tables
               WHERE status IN ('ACTIVE', 'INITIALIZING') AND refresh_mode <> 'IMMEDIATE'
    LOOP
        IF NOT st.is_populated OR st.needs_reinit THEN
            RETURN NEXT st.pgt_id;
            CONTINUE;
        END IF;
        FOR r IN
            SELECT ct.buffer_table, f.frontier
              FROM pgtrickle.pgt_source_frontiers f
              JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = f.source_relid
             WHERE f.pgt_id = st.pgt_id
        LOOP
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE $1 IS NULL OR NOT pg_visible_in_snapshot(__pgt_xid, $1))',
                           r.buffer_table)
              INTO v_found USING r.frontier;
            IF v_found THEN
                RETURN NEXT st.pgt_id;
                EXIT;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- Deletes change rows that every consumer of the source has consumed. Runs in READ COMMITTED:
-- two refreshes pruning the same rows then simply skip each other's deletions.
CREATE OR REPLACE FUNCTION pgtrickle._prune_changes(p_source_relid oid)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_buffer text;
    v_deleted bigint;
BEGIN
    SELECT buffer_table INTO v_buffer FROM pgtrickle.pgt_change_tracking WHERE source_relid = p_source_relid;
    IF v_buffer IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format(
        'DELETE FROM %s b
          WHERE NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_source_frontiers f
                             WHERE f.source_relid = $1
                               AND (f.frontier IS NULL OR NOT pg_visible_in_snapshot(b.__pgt_xid, f.frontier)))',
        v_buffer) USING p_source_relid;
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;

-- The refresh itself, inside the caller's transaction. The caller guarantees that the snapshot
-- of this transaction is the one the result is computed at: REPEATABLE READ, or (initial
-- population) locks on every source so that no snapshot taken now can differ.
CREATE OR REPLACE FUNCTION pgtrickle._refresh(
    p_pgt_id bigint, p_initiated_by text, p_force_full boolean,
    OUT action text, OUT rows_inserted bigint, OUT rows_deleted bigint, OUT reason text, OUT history_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    st        pgtrickle.pgt_stream_tables%ROWTYPE;
    v_start   timestamptz := clock_timestamp();
    v_frontier pg_snapshot;
    v_pending record;
    v_missing text;
    v_ms      double precision;
    v_force_setting boolean;
    v_ratio   double precision;
    v_source_rows double precision;
    v_fallback boolean := false;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stream table with id % not found', p_pgt_id USING ERRCODE = '42P01';
    END IF;
    IF st.status IN ('SUSPENDED', 'ERROR') AND p_initiated_by <> 'INITIAL' THEN
        RAISE EXCEPTION 'stream table %.% is %', quote_ident(st.pgt_schema), quote_ident(st.pgt_name), st.status
            USING ERRCODE = '55000',
                  HINT = 'Resume it first: pgtrickle resume ' || st.pgt_schema || '.' || st.pgt_name
                         || ' (or CALL pgtrickle.resume_stream_table(...)).';
    END IF;

    SELECT string_agg(quote_ident(d.source_schema) || '.' || quote_ident(d.source_name), ', ') INTO v_missing
      FROM pgtrickle.pgt_dependencies d
     WHERE d.pgt_id = p_pgt_id AND NOT EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.source_relid);
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'source % of stream table %.% no longer exists', v_missing,
                quote_ident(st.pgt_schema), quote_ident(st.pgt_name)
            USING ERRCODE = '42P01',
                  HINT = 'Drop the stream table, or give it a new query with create_or_replace.';
    END IF;

    v_frontier := pgtrickle._frontier_snapshot();
    SELECT * INTO v_pending FROM pgtrickle._pending_changes(p_pgt_id, v_frontier);
    rows_inserted := 0;
    rows_deleted := 0;

    v_force_setting := pgtrickle._setting_on('pg_trickle.force_full_refresh', '{{default:pg_trickle.force_full_refresh}}'::boolean);
    v_ratio := coalesce(nullif(current_setting('pg_trickle.differential_max_change_ratio', true), '')::float8,
                        {{default:pg_trickle.differential_max_change_ratio}});
    IF st.refresh_mode = 'DIFFERENTIAL' THEN  -- only the change-ratio fallback needs the sources' size
        SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) INTO v_source_rows
          FROM pgtrickle.pgt_dependencies d JOIN pg_class c ON c.oid = d.source_relid
         WHERE d.pgt_id = p_pgt_id AND d.cdc_mode = 'TRIGGER';
    END IF;

    reason := CASE
        WHEN NOT st.is_populated THEN 'initial population'
        WHEN st.needs_reinit THEN coalesce(st.reinit_reason, 'reinitialisation requested')
        WHEN v_pending.capture_lost THEN 'changes were not captured while pg_trickle.cdc_paused or pg_trickle.enabled = off'
        WHEN v_pending.truncated THEN 'a source table was truncated'
        WHEN p_force_full THEN 'full refresh requested'
        WHEN v_pending.change_rows = 0 THEN 'no source changes'
        WHEN st.refresh_mode <> 'DIFFERENTIAL' THEN
            CASE WHEN st.requested_refresh_mode = 'AUTO' AND st.unsupported_reason IS NOT NULL
                 THEN 'differential not possible: ' || st.unsupported_reason ELSE 'source changes' END
        WHEN v_force_setting THEN 'pg_trickle.force_full_refresh is on'
        WHEN st.frontier IS NULL THEN 'no previous frontier'
        WHEN v_ratio > 0 AND v_pending.change_rows > v_ratio * greatest(v_source_rows, 1000)
            THEN format('%s changed rows exceed pg_trickle.differential_max_change_ratio (%s) of the sources', v_pending.change_rows, v_ratio)
        ELSE 'source changes' END;

    IF st.is_populated AND NOT st.needs_reinit AND NOT p_force_full AND v_pending.change_rows = 0 THEN
        action := 'NO_DATA';
    ELSIF st.refresh_mode = 'DIFFERENTIAL' AND st.diff_apply_sql IS NOT NULL AND reason = 'source changes' THEN
        action := 'DIFFERENTIAL';
        PERFORM set_config('pg_trickle.internal_refresh', 'on', true);
        EXECUTE st.diff_apply_sql INTO rows_inserted, rows_deleted USING v_frontier, st.frontier;
        PERFORM set_config('pg_trickle.internal_refresh', 'off', true);
    ELSE
        action := CASE WHEN st.is_populated AND (st.needs_reinit OR v_pending.capture_lost OR v_pending.truncated)
                       THEN 'REINITIALIZE' ELSE 'FULL' END;
        v_fallback := st.refresh_mode = 'DIFFERENTIAL' AND st.is_populated;
        -- Every FULL refresh that is not the user's own choice says why (AUTO resolved to FULL, or a fallback).
        IF v_fallback OR (st.is_populated AND st.requested_refresh_mode = 'AUTO' AND st.unsupported_reason IS NOT NULL) THEN
            RAISE NOTICE 'stream table "%.%" using FULL refresh: %', st.pgt_schema, st.pgt_name,
                CASE WHEN v_fallback THEN reason ELSE st.unsupported_reason END;
        END IF;
        PERFORM set_config('pg_trickle.internal_refresh', 'on', true);
        EXECUTE st.full_apply_sql INTO rows_inserted, rows_deleted;
        PERFORM set_config('pg_trickle.internal_refresh', 'off', true);
    END IF;

    v_ms := extract(epoch FROM clock_timestamp() - v_start) * 1000;
    UPDATE pgtrickle.pgt_stream_tables
       SET frontier = v_frontier,
           last_refresh_at = now(),
           data_timestamp = CASE WHEN rows_inserted + rows_deleted > 0 OR data_timestamp IS NULL
                                 THEN now() ELSE data_timestamp END,
           is_populated = true,
           needs_reinit = false,
           reinit_reason = NULL,
           status = CASE WHEN status = 'INITIALIZING' THEN 'ACTIVE' ELSE status END,
           consecutive_errors = 0,
           last_full_ms = CASE WHEN action IN ('FULL', 'REINITIALIZE') THEN v_ms ELSE last_full_ms END,
           effective_refresh_mode = CASE WHEN action = 'NO_DATA' THEN effective_refresh_mode
                                         WHEN action = 'DIFFERENTIAL' THEN 'DIFFERENTIAL' ELSE 'FULL' END,
           last_error_message = NULL, last_error_sqlstate = NULL, last_error_at = NULL,
           updated_at = now()
     WHERE pgt_id = p_pgt_id;
    UPDATE pgtrickle.pgt_source_frontiers SET frontier = v_frontier, updated_at = now() WHERE pgt_id = p_pgt_id;

    INSERT INTO pgtrickle.pgt_refresh_history
        (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
         delta_row_count, refresh_reason, status, initiated_by, was_full_fallback)
    SELECT p_pgt_id, coalesce(s.data_timestamp, now()), v_start, clock_timestamp(), action, rows_inserted, rows_deleted,
           v_pending.change_rows, reason, 'COMPLETED', p_initiated_by, v_fallback
      FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = p_pgt_id
    RETURNING pgt_refresh_history.refresh_id INTO history_id;
END
$$;

-- Sends one alert on channel pgtrickle_alert, the only alert channel: a JSON object with the event,
-- the stream table (pgt_schema, pgt_name, st as 'schema.name' quoted) and the event's own fields.
-- Delivered when the caller's transaction commits. Free text in p_extra is cut to 1000 characters
-- by the callers, so the payload stays far below NOTIFY's 8000-byte limit.
CREATE OR REPLACE FUNCTION pgtrickle._alert(p_event text, p_pgt_id bigint, p_extra jsonb DEFAULT '{}')
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_payload jsonb;
BEGIN
    SELECT jsonb_build_object('event', p_event, 'pgt_schema', pgt_schema, 'pgt_name', pgt_name,
                              'st', quote_ident(pgt_schema) || '.' || quote_ident(pgt_name)) || coalesce(p_extra, '{}')
      INTO v_payload FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    PERFORM pg_notify('pgtrickle_alert', coalesce(v_payload, jsonb_build_object('event', p_event))::text);
END
$$;

-- Wakes a listening daemon after a capture trigger wrote changes (channel pgtrickle_wake, payload
-- the source's stable name). PostgreSQL folds identical notifications of one transaction into one
-- and delivers them only on commit: one wake-up per source and committed transaction.
CREATE OR REPLACE FUNCTION pgtrickle._wake(p_source text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF pgtrickle._setting_on('pg_trickle.event_driven_wake', '{{default:pg_trickle.event_driven_wake}}'::boolean) THEN
        PERFORM pg_notify('pgtrickle_wake', p_source);
    END IF;
END
$$;

-- Records a failed refresh in its own transaction and moves the stream table along the
-- status machine: a non-retryable error puts it into ERROR at once (alert refresh_failed);
-- retryable ones count towards pg_trickle.max_consecutive_errors (default 3), after which it is
-- SUSPENDED (alert auto_suspended). Both decisions use the SQLSTATE only, never the message.
CREATE OR REPLACE FUNCTION pgtrickle._record_failure(
    p_pgt_id bigint, p_initiated_by text, p_start timestamptz, p_sqlstate text, p_message text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_retryable boolean := pgtrickle._retryable(p_sqlstate);
    v_max integer := coalesce(nullif(current_setting('pg_trickle.max_consecutive_errors', true), '')::integer,
                              {{default:pg_trickle.max_consecutive_errors}});
    v_old text;
    v_new text;
    v_errors integer;
BEGIN
    INSERT INTO pgtrickle.pgt_refresh_history
        (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by, error_message, error_sqlstate)
    SELECT p_pgt_id, coalesce(data_timestamp, now()), p_start, clock_timestamp(), 'FULL', 'FAILED', p_initiated_by,
           p_message, p_sqlstate
      FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    -- A busy stream table (lock, serialisation) is not broken: it does not count.
    IF p_sqlstate IN ('55P03', '40001', '40P01') THEN
        RETURN;
    END IF;
    SELECT status INTO v_old FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id FOR UPDATE;
    UPDATE pgtrickle.pgt_stream_tables
       SET consecutive_errors = consecutive_errors + 1,
           status = CASE WHEN NOT v_retryable THEN 'ERROR'
                         WHEN consecutive_errors + 1 >= v_max THEN 'SUSPENDED'
                         ELSE status END,
           last_error_message = p_message, last_error_sqlstate = p_sqlstate, last_error_at = now(),
           updated_at = now()
     WHERE pgt_id = p_pgt_id
    RETURNING status, consecutive_errors INTO v_new, v_errors;
    IF v_new IS DISTINCT FROM v_old AND v_new IN ('SUSPENDED', 'ERROR') THEN
        PERFORM pgtrickle._alert(CASE v_new WHEN 'SUSPENDED' THEN 'auto_suspended' ELSE 'refresh_failed' END, p_pgt_id,
            jsonb_build_object('status', v_new, 'sqlstate', p_sqlstate, 'consecutive_errors', v_errors,
                               'retryable', v_retryable, 'message', left(p_message, 1000)));
    END IF;
END
$$;

-- Deletes at most p_batch refresh-history rows that started more than p_retention_days ago, oldest
-- first, and returns how many. The daemon calls it until it returns less than a batch, each call
-- its own short transaction, so pruning a large backlog never holds long locks or a long snapshot.
CREATE OR REPLACE FUNCTION pgtrickle._prune_history(p_retention_days double precision, p_batch integer)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_deleted bigint;
BEGIN
    DELETE FROM pgtrickle.pgt_refresh_history
     WHERE refresh_id IN (SELECT refresh_id FROM pgtrickle.pgt_refresh_history
                           WHERE start_time < now() - make_interval(secs => p_retention_days * 86400)
                           ORDER BY start_time LIMIT p_batch);
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$$;

-- Rows waiting in each source's change buffer, for the daemon's metrics: exact up to 100,000 rows,
-- above that PostgreSQL's estimate (pg_class.reltuples), so a scrape never scans a huge backlog.
CREATE OR REPLACE FUNCTION pgtrickle._change_buffer_rows(
    OUT source_table text, OUT buffer_table text, OUT pending_rows bigint)
RETURNS SETOF record LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT ct.source_relid, ct.buffer_table, c.reltuples,
                    (SELECT quote_ident(n.nspname) || '.' || quote_ident(sc.relname)
                       FROM pg_class sc JOIN pg_namespace n ON n.oid = sc.relnamespace
                      WHERE sc.oid = ct.source_relid) AS source
               FROM pgtrickle.pgt_change_tracking ct
               LEFT JOIN pg_class c ON c.oid = to_regclass(ct.buffer_table)
              ORDER BY ct.source_relid
    LOOP
        CONTINUE WHEN r.source IS NULL;
        source_table := r.source;
        buffer_table := r.buffer_table;
        IF coalesce(r.reltuples, 0) > 100000 THEN
            pending_rows := r.reltuples::bigint;
        ELSE
            EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s LIMIT 100001) b', r.buffer_table) INTO pending_rows;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

-- SQLSTATE-only retry decision; mirrors io.pgtrickle.core.api.RetryPolicy.
CREATE OR REPLACE FUNCTION pgtrickle._retryable(p_sqlstate text)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE
        WHEN p_sqlstate IS NULL OR length(p_sqlstate) <> 5 THEN true
        WHEN left(p_sqlstate, 2) IN ('40', '08') OR p_sqlstate IN ('55P03', '57014') THEN true
        WHEN left(p_sqlstate, 2) = '55' OR p_sqlstate = '57P01' THEN false
        WHEN left(p_sqlstate, 2) IN ('22', '23', '28', '42', '0A', '3F', '2B', 'P0') THEN false
        ELSE true END
$$;

-- Resolves 'name' or 'schema.name' (quoted parts allowed) to a stream table id.
CREATE OR REPLACE FUNCTION pgtrickle._resolve(p_name text)
RETURNS bigint LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_parts text[];
    v_id bigint;
BEGIN
    IF p_name IS NULL THEN
        RAISE EXCEPTION 'stream table name must not be NULL' USING ERRCODE = '22023';
    END IF;
    BEGIN
        v_parts := parse_ident(p_name);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid stream table name "%"', p_name USING ERRCODE = '42602',
            HINT = 'Use ''table'' or ''schema.table''.';
    END;
    IF array_length(v_parts, 1) = 1 THEN
        SELECT s.pgt_id INTO v_id FROM pgtrickle.pgt_stream_tables s
          JOIN unnest(current_schemas(false)) WITH ORDINALITY AS p(nsp, ord) ON p.nsp = s.pgt_schema
         WHERE s.pgt_name = v_parts[1] ORDER BY p.ord LIMIT 1;
    ELSIF array_length(v_parts, 1) = 2 THEN
        SELECT s.pgt_id INTO v_id FROM pgtrickle.pgt_stream_tables s
         WHERE s.pgt_schema = v_parts[1] AND s.pgt_name = v_parts[2];
    END IF;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'stream table not found: %', p_name USING ERRCODE = '42P01',
            HINT = 'SELECT pgt_schema, pgt_name FROM pgtrickle.pgt_stream_tables lists them.';
    END IF;
    RETURN v_id;
END
$$;

-- The refresh procedure: every door (scheduler, CLI, Java API, psql, pg_cron) calls this.
--
-- Called at top level (autocommit CALL) it commits what came before, runs the refresh in its own
-- REPEATABLE READ transaction, records a failure in a separate transaction and then prunes the
-- consumed change rows. Called inside a REPEATABLE READ or SERIALIZABLE transaction it refreshes
-- in place, as part of the caller's transaction.
CREATE OR REPLACE PROCEDURE pgtrickle._refresh_procedure(
    p_pgt_id bigint, p_initiated_by text, p_force_full boolean, p_wait boolean, INOUT p_refresh_id bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    -- Session-level advisory lock key: 'PGTR' in the high word, the stream table id below.
    v_key bigint := (x'50475452'::bigint << 32) | (p_pgt_id & x'FFFFFFFF'::bigint);
    v_start timestamptz := clock_timestamp();
    v_result record;
    v_state text; v_msg text; v_hint text; v_detail text;
    v_failed boolean := false;
    v_source oid;
BEGIN
    IF current_setting('transaction_isolation') IN ('repeatable read', 'serializable') THEN
        PERFORM pg_advisory_xact_lock(v_key);
        SELECT history_id INTO p_refresh_id FROM pgtrickle._refresh(p_pgt_id, p_initiated_by, p_force_full);
        RETURN;
    END IF;
    -- Inside a READ COMMITTED transaction block this COMMIT fails with SQLSTATE 2D000 (invalid
    -- transaction termination) before any lock is taken; the Java API turns that into advice.
    COMMIT;
    IF p_wait THEN
        PERFORM pg_advisory_lock(v_key);
    ELSIF NOT pg_try_advisory_lock(v_key) THEN
        RAISE NOTICE 'refresh skipped: stream table % is being refreshed by another session', p_pgt_id;
        RETURN;
    END IF;
    -- The lock is taken before the snapshot: a refresh that waited sees the previous one's frontier.
    COMMIT;
    SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;
    BEGIN
        SELECT history_id INTO p_refresh_id FROM pgtrickle._refresh(p_pgt_id, p_initiated_by, p_force_full);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                v_hint = PG_EXCEPTION_HINT, v_detail = PG_EXCEPTION_DETAIL;
        v_failed := true;
    END;
    PERFORM pg_advisory_unlock(v_key);
    COMMIT;
    IF v_failed THEN
        PERFORM pgtrickle._record_failure(p_pgt_id, p_initiated_by, v_start, v_state, v_msg);
        COMMIT;
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_msg, DETAIL = coalesce(v_detail, ''),
            HINT = coalesce(nullif(v_hint, ''), 'The failure is recorded in pgtrickle.pgt_refresh_history.');
    END IF;
    FOR v_source IN SELECT source_relid FROM pgtrickle.pgt_source_frontiers WHERE pgt_id = p_pgt_id LOOP
        PERFORM pgtrickle._prune_changes(v_source);
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.refresh_stream_table(name text, force_full boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    v_refresh_id bigint;
BEGIN
    CALL pgtrickle._refresh_procedure(pgtrickle._resolve(name), 'MANUAL', force_full, true, v_refresh_id);
END
$$;

-- Whether values of a type can be hashed by hash_record_extended. Types without a default hash
-- operator class (json, point, xml ...) are hashed through their text form instead.
CREATE OR REPLACE FUNCTION pgtrickle._type_hashable(p_type oid)
RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
    t pg_type%ROWTYPE;
BEGIN
    SELECT * INTO t FROM pg_type WHERE oid = p_type;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF t.typtype = 'd' THEN
        RETURN pgtrickle._type_hashable(t.typbasetype);
    END IF;
    IF t.typtype = 'e' THEN
        RETURN true;
    END IF;
    IF t.typtype = 'c' OR t.typtype = 'p' OR t.typtype = 'r' OR t.typtype = 'm' THEN
        RETURN false;  -- composite, pseudo, range, multirange: text form is always safe
    END IF;
    IF t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc THEN
        RETURN pgtrickle._type_hashable(t.typelem);
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                    WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = p_type);
END
$$;

-- Whether scheduled refreshes run: pg_trickle.enabled as this session sees it, with a database-level
-- setting (ALTER DATABASE ... SET) taking effect without reconnecting the long-lived scheduler session.
CREATE OR REPLACE FUNCTION pgtrickle._scheduler_enabled()
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE lower(coalesce(
               (SELECT split_part(cfg, '=', 2)
                  FROM pg_db_role_setting s, unnest(s.setconfig) AS cfg
                 WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
                   AND s.setrole = 0 AND split_part(cfg, '=', 1) = 'pg_trickle.enabled'),
               current_setting('pg_trickle.enabled', true), '{{default:pg_trickle.enabled}}'))
           WHEN 'off' THEN false WHEN 'false' THEN false WHEN 'no' THEN false WHEN '0' THEN false
           ELSE true END
$$;
