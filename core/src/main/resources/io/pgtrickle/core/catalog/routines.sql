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

DROP FUNCTION IF EXISTS pgtrickle._setting_number(text, double precision, double precision, double precision);

-- A numeric pg_trickle.* setting read by a refresh: as pgtrickle._setting_number (observability.sql),
-- but an invalid value is reported as a WARNING and the default used: a mistyped
-- ALTER DATABASE ... SET must not fail (and so put into ERROR) every stream table of the database.
CREATE OR REPLACE FUNCTION pgtrickle._setting_number_or_default(
    p_name text, p_default double precision, p_min double precision, p_max double precision, p_allowed text)
RETURNS double precision LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_text text := current_setting(p_name, true);
    v_plain double precision;
    v_msg text; v_hint text;
BEGIN
    -- Unset (the usual case) or a plain number in range: no block with an EXCEPTION clause, which
    -- costs a subtransaction.
    IF coalesce(btrim(v_text), '') = '' THEN
        RETURN p_default;
    END IF;
    v_plain := pgtrickle._plain_number(v_text);
    IF v_plain >= p_min AND v_plain <= p_max THEN
        RETURN v_plain;
    END IF;
    BEGIN
        RETURN pgtrickle._setting_number(p_name, p_default, p_min, p_max, p_allowed);
    EXCEPTION WHEN invalid_parameter_value THEN
        GET STACKED DIAGNOSTICS v_msg = MESSAGE_TEXT, v_hint = PG_EXCEPTION_HINT;
        RAISE WARNING '%; the default % is used', v_msg, p_default USING HINT = v_hint;
        RETURN p_default;
    END;
END
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

-- The integers lo..hi, as generate_series, for the compiled differential SQL: a row's ordinals
-- among equal rows, and a weight turned into that many copies. Nearly always one row a call, and
-- the planner is told so (ROWS 1): generate_series with arguments from a column is estimated at
-- 1,000 rows a call, which made the delta of 100 changed rows look like 100,000 and the apply step
-- hash-join the whole stream table. STRICT keeps PostgreSQL from inlining it (inlined, the estimate
-- would be generate_series's again).
CREATE OR REPLACE FUNCTION pgtrickle._ordinals(lo bigint, hi bigint)
RETURNS SETOF bigint LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 1 AS $$
    SELECT pg_catalog.generate_series(lo, hi)
$$;

-- One row, which the planner estimates at 100 (ROWS; PL/pgSQL is never inlined). A refresh joins
-- it to each of two changes it joins together: both are estimated at a row or so whatever they
-- hold, and PostgreSQL then read one of them again for every row of the other (FromClause).
CREATE OR REPLACE FUNCTION pgtrickle._one_row_estimated_at_100()
RETURNS SETOF boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE ROWS 100 AS $$
BEGIN
    RETURN NEXT true;
END
$$;

-- Result columns of a routine whose earlier version returned fewer: CREATE OR REPLACE cannot
-- change them, so an older catalog's version is dropped first (only then, not on every install).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.oid::regprocedure AS f
               FROM pg_proc p
              WHERE p.oid IN (to_regprocedure('pgtrickle._pending_changes(bigint, pg_snapshot)'),
                              to_regprocedure('pgtrickle._refresh_plan(bigint, text, boolean)'))
                AND (NOT 'changed_sources' = ANY (p.proargnames)
                     OR 'changed_counts' = ANY (p.proargnames)  -- briefly on main (50cd5b8), withdrawn
                     OR (p.proname = '_refresh_plan' AND 'apply_sql' = ANY (p.proargnames))  -- up to catalog 6
                     OR (p.proname = '_refresh_plan' AND NOT 'history_id' = ANY (p.proargnames)))  -- up to catalog 8
    LOOP
        EXECUTE format('DROP FUNCTION %s', r.f);
    END LOOP;
END
$$;

-- The sources a stream table reads without seeing their changes (all stream tables when p_pgt_id
-- is NULL): materialized views and foreign tables (no capture), and tables with inheritance
-- children (reading one reads them, and the capture on the parent never sees their changes). No
-- change count can tell that such a source did not change, so a stream table reading one is
-- refreshed, in full, whenever it is due. Checked at each refresh and tick, so children attached
-- after the stream table was created count too. A single SELECT without SET: PostgreSQL inlines it
-- into the caller's query.
DROP FUNCTION IF EXISTS pgtrickle._uncaptured(oid, text, text);  -- briefly on main (39809b2)
CREATE OR REPLACE FUNCTION pgtrickle._uncaptured_sources(p_pgt_id bigint)
RETURNS TABLE(pgt_id bigint, sources text) LANGUAGE sql STABLE AS $$
    SELECT d.pgt_id, pg_catalog.string_agg(pg_catalog.quote_ident(d.source_schema) OPERATOR(pg_catalog.||) '.'
                                           OPERATOR(pg_catalog.||) pg_catalog.quote_ident(d.source_name), ', '
                                           ORDER BY d.source_schema, d.source_name)
      FROM pgtrickle.pgt_dependencies d
     -- A range rather than "p_pgt_id IS NULL OR d.pgt_id = p_pgt_id": that form has no index
     -- condition in a generic plan, so a refresh's cached plan was planned again at every call.
     WHERE d.pgt_id OPERATOR(pg_catalog.>=) coalesce(p_pgt_id, -9223372036854775808)
       AND d.pgt_id OPERATOR(pg_catalog.<=) coalesce(p_pgt_id, 9223372036854775807)
       AND ((d.cdc_mode OPERATOR(pg_catalog.=) 'NONE' AND d.source_type IN ('MATVIEW', 'FOREIGN_TABLE'))
            -- a scalar lookup by oid, which PostgreSQL cannot turn into a hash of all of pg_class;
            -- pg_inherits is read only for a table flagged as having (had) children
            OR (d.source_type OPERATOR(pg_catalog.=) 'TABLE'
                AND coalesce((SELECT c.relkind OPERATOR(pg_catalog.=) 'r' AND c.relhassubclass
                                     AND EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i WHERE i.inhparent OPERATOR(pg_catalog.=) c.oid)
                                FROM pg_catalog.pg_class c WHERE c.oid OPERATOR(pg_catalog.=) d.source_relid), false))
            -- a table whose capture the DDL guard dropped (_on_ddl_end) until a reader installs it again
            OR (d.source_type IN ('TABLE', 'STREAM_TABLE') AND d.cdc_mode OPERATOR(pg_catalog.=) 'TRIGGER'
                AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_change_tracking ct
                                 WHERE ct.source_relid OPERATOR(pg_catalog.=) d.source_relid)))
     GROUP BY d.pgt_id
$$;

DROP FUNCTION IF EXISTS pgtrickle._virtual_expression(oid, smallint);  -- briefly on main (1d2f5f7)

-- Each change buffer's two hot statements, its change count and its pruning, as functions of
-- their own with the store's name in static SQL (pgtrickle_changes.pending_<stable> and
-- prune_<stable>), so a session keeps them parsed and planned: run with EXECUTE, PostgreSQL planned
-- them again at every refresh, 0.07 and 0.17 ms of a refresh's 3.5 ms (the filter scenario, 1M
-- rows). Made by a buffer's first use and brought up to date by every install; dropped with the
-- buffer. Idempotent: a routine whose body is already this release's is left alone (replacing it
-- would make every session plan it again), so anyone may call it. The routines run with their
-- caller's rights and search_path: the refresh's, pinned by its SECURITY DEFINER routines.
CREATE OR REPLACE FUNCTION pgtrickle._buffer_routines(p_source_relid oid)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_stable text;
    v_store text;
    v_pending text;
    v_prune text;
BEGIN
    SELECT source_stable_name, buffer_store INTO v_stable, v_store
      FROM pgtrickle.pgt_change_tracking WHERE source_relid = p_source_relid;
    IF v_store IS NULL THEN
        RETURN;
    END IF;
    -- Counted on the stored batches (a marker counts as one row), without unnesting them; the xid
    -- range (implied by the visibility tests) is what the store's xid index searches.
    v_pending := format($b$
BEGIN
    SELECT coalesce(sum(coalesce(b.__pgt_n, 1)), 0), coalesce(bool_or(b.__pgt_action = 'T'), false),
           coalesce(bool_or(b.__pgt_action = 'P'), false)
      INTO change_rows, truncated, capture_lost
      FROM %s b
     WHERE b.__pgt_xid >= coalesce(pg_snapshot_xmin(p_frontier), '0') AND b.__pgt_xid < pg_snapshot_xmax(p_now)
       AND pg_visible_in_snapshot(b.__pgt_xid, p_now)
       AND (p_frontier IS NULL OR NOT pg_visible_in_snapshot(b.__pgt_xid, p_frontier));
END
$b$, v_store);
    -- Deletes the rows every reader of the source has consumed, from xid p_from on. Only rows below
    -- every reader's xmax can be visible to all of them: the range the xid index searches (none
    -- while a reader has no frontier; all when no reader is left). p_from bounds it from below: a
    -- buffer is a queue, and the rows deleted before stay in its index and heap as dead tuples
    -- until a vacuum; a range from 0 visited them all at every refresh (a prune that cost 0.15 ms
    -- after a vacuum cost 0.7-14 ms under back-to-back refreshes, until the next vacuum).
    v_prune := format($b$
DECLARE
    v_deleted bigint;
BEGIN
    DELETE FROM %s b
     WHERE b.__pgt_xid >= p_from
       AND b.__pgt_xid < coalesce((SELECT CASE WHEN bool_or(f.frontier IS NULL) THEN '0'::xid8
                                               ELSE min(pg_snapshot_xmax(f.frontier)) END
                                     FROM pgtrickle.pgt_source_frontiers f WHERE f.source_relid = p_source_relid),
                                  '18446744073709551615'::xid8)
       AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_source_frontiers f
                        WHERE f.source_relid = p_source_relid
                          AND (f.frontier IS NULL OR NOT pg_visible_in_snapshot(b.__pgt_xid, f.frontier)));
    GET DIAGNOSTICS v_deleted = ROW_COUNT;
    RETURN v_deleted;
END
$b$, v_store);
    -- Two refreshes that find them missing at once: the second waits, then finds them made.
    PERFORM pg_advisory_xact_lock(x'50475442'::integer, hashtext(v_stable));
    IF NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.prosrc = v_pending
                      AND p.oid = to_regprocedure(format('pgtrickle_changes.%I(pg_snapshot, pg_snapshot)', 'pending_' || v_stable))) THEN
        EXECUTE format('CREATE OR REPLACE FUNCTION pgtrickle_changes.%I(
    p_now pg_snapshot, p_frontier pg_snapshot, OUT change_rows bigint, OUT truncated boolean, OUT capture_lost boolean)
LANGUAGE plpgsql STABLE AS %L', 'pending_' || v_stable, v_pending);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.prosrc = v_prune
                      AND p.oid = to_regprocedure(format('pgtrickle_changes.%I(oid, xid8)', 'prune_' || v_stable))) THEN
        EXECUTE format('CREATE OR REPLACE FUNCTION pgtrickle_changes.%I(p_source_relid oid, p_from xid8)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS %L', 'prune_' || v_stable, v_prune);
    END IF;
    IF to_regprocedure(format('pgtrickle_changes.%I(oid)', 'prune_' || v_stable)) IS NOT NULL THEN  -- up to catalog 11
        EXECUTE format('DROP FUNCTION pgtrickle_changes.%I(oid)', 'prune_' || v_stable);
    END IF;
END
$$;

-- Stores the arrays of fixed-width types of up to 16 bytes (integers, floats, dates and times, uuid
-- ...) of a buffer's store uncompressed (STORAGE EXTERNAL): pglz, the only method every build has,
-- took half of what capture added to a bulk statement, and reading compressed arrays cost the
-- refresh its decompression. Measured on PostgreSQL 18, 10,000-row statements on a table whose
-- bigint and int columns are captured: capture's extra time 25 -> 12 ms for an UPDATE, 12.5 -> 7 ms
-- for an INSERT, 14 -> 7.6 ms for a DELETE; extra WAL 1-6 % -> 9-18 %. Arrays of variable-width
-- types (text, numeric, jsonb) and of wide ones (name) compress better and keep the default.
-- SET STORAGE locks the store exclusively until the caller commits: a store that another
-- transaction holds (a writer of the source, a refresh) is skipped, not waited for, so that an
-- install neither stalls every captured write nor deadlocks with a writer of two sources; the next
-- install takes it. A store being created or widened is the caller's already. Returns how many
-- columns it changed; idempotent (creating a store, widening it, and every install call it).
CREATE OR REPLACE FUNCTION pgtrickle._buffer_storage(p_store text)
RETURNS integer LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_columns text;
    v_count integer;
BEGIN
    FOR i IN 1..2 LOOP  -- the columns to change, then again once the store is locked
        SELECT string_agg(format('ALTER COLUMN %I SET STORAGE EXTERNAL', a.attname), ', ' ORDER BY a.attnum), count(*)
          INTO v_columns, v_count
          FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_type e ON e.oid = t.typelem
         WHERE a.attrelid = to_regclass(p_store) AND a.attnum > 0 AND NOT a.attisdropped
           AND t.typcategory = 'A' AND e.typlen BETWEEN 1 AND 16 AND a.attstorage <> 'e';
        IF v_count = 0 THEN
            RETURN 0;
        END IF;
        EXIT WHEN i = 2;
        BEGIN
            EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE NOWAIT', p_store);
        EXCEPTION WHEN lock_not_available OR undefined_table THEN  -- busy, or dropped meanwhile
            RETURN 0;
        END;
    END LOOP;
    EXECUTE format('ALTER TABLE %s %s', p_store, v_columns);
    RETURN v_count;
END
$$;

-- The name of a buffer routine (_buffer_routines) of a source, created first if it is missing.
-- No SET clause (it costs each call): its callers pin search_path, and every name is qualified.
CREATE OR REPLACE FUNCTION pgtrickle._buffer_routine(p_source_relid oid, p_stable text, p_kind text)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF pg_catalog.to_regprocedure(pg_catalog.format('pgtrickle_changes.%I(%s)', p_kind OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) p_stable,
                                  CASE p_kind WHEN 'prune' THEN 'oid, xid8' ELSE 'pg_snapshot, pg_snapshot' END)) IS NULL THEN
        PERFORM pgtrickle._buffer_routines(p_source_relid);
    END IF;
    RETURN pg_catalog.format('pgtrickle_changes.%I', p_kind OPERATOR(pg_catalog.||) '_' OPERATOR(pg_catalog.||) p_stable);
END
$$;

-- Summary of the captured changes of one stream table's sources between its frontier and now;
-- changed_sources: the sources whose buffer has rows in the window (a differential refresh
-- leaves the others' terms out of its plan).
CREATE OR REPLACE FUNCTION pgtrickle._pending_changes(
    p_pgt_id bigint, p_now pg_snapshot,
    OUT change_rows bigint, OUT truncated boolean, OUT capture_lost boolean, OUT changed_sources oid[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    v_rows bigint; v_trunc boolean; v_lost boolean;
BEGIN
    change_rows := 0; truncated := false; capture_lost := false; changed_sources := '{}';
    FOR r IN
        SELECT ct.source_relid, ct.source_stable_name, f.frontier
          FROM pgtrickle.pgt_source_frontiers f
          JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = f.source_relid
         WHERE f.pgt_id = p_pgt_id
    LOOP
        EXECUTE pg_catalog.format('SELECT * FROM %s($1, $2)', pgtrickle._buffer_routine(r.source_relid, r.source_stable_name, 'pending'))
          INTO v_rows, v_trunc, v_lost
          USING p_now, r.frontier;
        -- Operators qualified: this routine has no SET clause, and a caller's search_path could
        -- otherwise offer an exact-type || ahead of pg_catalog's polymorphic one.
        change_rows := change_rows OPERATOR(pg_catalog.+) v_rows;
        IF v_rows OPERATOR(pg_catalog.>) 0 THEN
            changed_sources := changed_sources OPERATOR(pg_catalog.||) r.source_relid;
        END IF;
        truncated := truncated OR v_trunc;
        capture_lost := capture_lost OR v_lost;
    END LOOP;
END
$$;

-- Whether capture was off while a source of the stream table changed (its next refresh reinitialises
-- it), for status readers: the markers are in the buffers' stores, which only the catalog's owner
-- reads (a stream table's owner is granted the change views, not the stores). Says nothing more.
CREATE OR REPLACE FUNCTION pgtrickle._capture_lost(p_pgt_id bigint)
RETURNS boolean LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.capture_lost FROM pgtrickle._pending_changes(p_pgt_id, pg_current_snapshot()) p
$$;

-- Stream tables that are active, have a schedule to keep and something to do: changes captured
-- after their frontier, or a pending (re)initialisation. The scheduler asks this once per tick.
-- Set-based: one statement per source buffer, over all the stream tables reading it (a tick over
-- 1,000 stream tables of 10 sources is 10 dynamic statements, not 1,000). An empty buffer is a
-- one-time filter of that statement; otherwise each reader's EXISTS stops at its first change row
-- not visible in its frontier, as before. A stream table already found is not looked at again.
CREATE OR REPLACE FUNCTION pgtrickle._stream_tables_with_work()
RETURNS SETOF bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    v_found bigint[] := '{}';
    v_more bigint[];
BEGIN
    SELECT coalesce(array_agg(s.pgt_id), '{}') INTO v_found FROM pgtrickle.pgt_stream_tables s
     WHERE s.status IN ('ACTIVE', 'INITIALIZING') AND s.refresh_mode <> 'IMMEDIATE'
       AND (NOT s.is_populated OR s.needs_reinit
            OR s.pgt_id IN (SELECT u.pgt_id FROM pgtrickle._uncaptured_sources(NULL) u));
    FOR r IN SELECT DISTINCT ct.source_relid, ct.buffer_store
               FROM pgtrickle.pgt_change_tracking ct
               JOIN pgtrickle.pgt_source_frontiers f ON f.source_relid = ct.source_relid
               JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = f.pgt_id
              WHERE s.status IN ('ACTIVE', 'INITIALIZING') AND s.refresh_mode <> 'IMMEDIATE'
                AND s.is_populated AND NOT s.needs_reinit
    LOOP
        EXECUTE format(
            'SELECT coalesce(array_agg(f.pgt_id), ''{}'')
               FROM pgtrickle.pgt_source_frontiers f
               JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = f.pgt_id
              WHERE f.source_relid = $1 AND f.pgt_id <> ALL ($2)
                AND s.status IN (''ACTIVE'', ''INITIALIZING'') AND s.refresh_mode <> ''IMMEDIATE''
                AND EXISTS (SELECT 1 FROM %1$s)
                AND EXISTS (SELECT 1 FROM %1$s b
                             WHERE b.__pgt_xid >= coalesce(pg_snapshot_xmin(f.frontier), ''0'')
                               AND (f.frontier IS NULL OR NOT pg_visible_in_snapshot(b.__pgt_xid, f.frontier)))',
            r.buffer_store)
          INTO v_more USING r.source_relid, v_found;
        v_found := v_found || v_more;
    END LOOP;
    RETURN QUERY SELECT unnest(v_found);
END
$$;

-- Deletes change rows that every consumer of the source has consumed (its prune_ routine), from
-- xid p_from on (NULL: all of them). Runs in READ COMMITTED: two refreshes pruning the same rows
-- then simply skip each other's deletions.
DROP FUNCTION IF EXISTS pgtrickle._prune_changes(oid);  -- up to catalog 11
CREATE OR REPLACE FUNCTION pgtrickle._prune_changes(p_source_relid oid, p_from xid8 DEFAULT NULL)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_stable text;
    v_deleted bigint;
BEGIN
    SELECT source_stable_name INTO v_stable FROM pgtrickle.pgt_change_tracking
     WHERE source_relid = p_source_relid AND buffer_store IS NOT NULL;
    IF v_stable IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format('SELECT %s($1, $2)', pgtrickle._buffer_routine(p_source_relid, v_stable, 'prune'))
       INTO v_deleted USING p_source_relid, coalesce(p_from, '0'::xid8);
    RETURN v_deleted;
END
$$;

-- Roles and rights. Routines that write the catalog for a caller are SECURITY DEFINER (they run as
-- the catalog's owner) and first check that the caller may act on the stream table: its owner, a
-- member of the owning role, or a superuser. Inside such a routine current_user is the definer, so
-- the caller is read from the session: the role it SET, or else the role it logged in as.
CREATE OR REPLACE FUNCTION pgtrickle._invoker()
RETURNS name LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN current_setting('role') = 'none' THEN session_user ELSE current_setting('role')::name END
$$;

-- The owner of a stream table is the owner of its storage table (ALTER TABLE ... OWNER TO moves both).
CREATE OR REPLACE FUNCTION pgtrickle._owner(p_pgt_id bigint)
RETURNS name LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_get_userbyid(c.relowner) FROM pgtrickle.pgt_stream_tables s JOIN pg_class c ON c.oid = s.pgt_relid
     WHERE s.pgt_id = p_pgt_id
$$;

-- Paid by refresh_stream_table and by the record of every refresh that ran its data statement:
-- the caller and the owner in one statement, without the calls of _invoker and _owner (each a
-- function with its own SET clause).
CREATE OR REPLACE FUNCTION pgtrickle._require_owner(p_pgt_id bigint, p_action text, p_role name DEFAULT NULL)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    v_role  name;
    v_owner name;
    v_may   boolean;
BEGIN
    -- One statement, and an IF on a plain boolean (a condition with a subquery is a statement too).
    SELECT r.role, o.owner,
           -- No storage table (dropped behind the engine's back): only a superuser may act on it.
           -- _refresh_plan tests the same, in its own statement.
           CASE WHEN o.owner IS NULL THEN coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = r.role), false)
                ELSE pg_has_role(r.role, o.owner, 'USAGE') END
      INTO v_role, v_owner, v_may
      FROM (SELECT coalesce(p_role, CASE WHEN current_setting('role') = 'none' THEN session_user
                                         ELSE current_setting('role')::name END) AS role) r
      LEFT JOIN (SELECT pg_get_userbyid(c.relowner) AS owner FROM pgtrickle.pgt_stream_tables s
                   JOIN pg_class c ON c.oid = s.pgt_relid WHERE s.pgt_id = p_pgt_id) o ON true;
    IF NOT coalesce(v_may, false) THEN
        RAISE EXCEPTION 'must be owner of stream table % to % it',
                (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id),
                p_action
            USING ERRCODE = '42501',
                  HINT = format('It is owned by role %s; ask its owner, or a member of that role.', v_owner);
    END IF;
END
$$;

-- Fails unless p_role may SELECT every relation the stream table reads: the tables behind a view
-- too, since the engine expands views and reads (and captures changes of) those tables itself.
-- A table privilege is needed, not column privileges: a change buffer holds every column that any
-- stream table over the source uses.
CREATE OR REPLACE FUNCTION pgtrickle._require_read(p_pgt_id bigint, p_role name)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_denied text;
BEGIN
    SELECT string_agg(quote_ident(d.source_schema) || '.' || quote_ident(d.source_name), ', ') INTO v_denied
      FROM pgtrickle.pgt_dependencies d
     WHERE d.pgt_id = p_pgt_id
       AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.source_relid)
       AND NOT has_table_privilege(p_role, d.source_relid, 'SELECT');
    IF v_denied IS NOT NULL THEN
        RAISE EXCEPTION 'role % may not read %, a source of stream table %', p_role, v_denied,
                (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id)
            USING ERRCODE = '42501',
                  HINT = format('A stream table is refreshed with its owner''s rights, and the tables behind a view are read '
                                || 'directly: GRANT SELECT ON the table(s) TO %s, or drop the stream table.', p_role);
    END IF;
END
$$;

-- Lets the owner of each stream table read the change buffers of its sources: refreshes run the
-- differential SQL as the owner. Nothing to do for owners that are superusers or own the buffers.
CREATE OR REPLACE FUNCTION pgtrickle._grant_buffers(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'grant change buffers of');
    PERFORM pgtrickle._grant_buffers_to(p_pgt_id, pgtrickle._owner(p_pgt_id));
END
$$;

-- The grants of _grant_buffers to p_owner, the stream table's owner, without checking the caller:
-- for _refresh_plan, which has checked it and knows the owner (not executable by PUBLIC).
CREATE OR REPLACE FUNCTION pgtrickle._grant_buffers_to(p_pgt_id bigint, p_owner name)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF p_owner IS NULL OR (SELECT rolsuper FROM pg_roles WHERE rolname = p_owner) THEN
        RETURN;
    END IF;
    IF NOT has_schema_privilege(p_owner, 'pgtrickle_changes', 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA pgtrickle_changes TO %I', p_owner);
    END IF;
    FOR r IN SELECT ct.buffer_table FROM pgtrickle.pgt_dependencies d
               JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = d.source_relid
              WHERE d.pgt_id = p_pgt_id AND to_regclass(ct.buffer_table) IS NOT NULL
                AND NOT has_table_privilege(p_owner, ct.buffer_table, 'SELECT')
    LOOP
        EXECUTE format('GRANT SELECT ON %s TO %I', r.buffer_table, p_owner);
    END LOOP;
END
$$;

-- Takes back what _grant_buffers gave p_owner on the buffers of p_sources that none of its
-- remaining stream tables reads.
CREATE OR REPLACE FUNCTION pgtrickle._revoke_buffers(p_owner name, p_sources oid[], p_force boolean DEFAULT false)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    IF p_owner IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_owner) THEN
        RETURN;
    END IF;
    FOR r IN SELECT ct.buffer_table FROM pgtrickle.pgt_change_tracking ct
              WHERE ct.source_relid = ANY (p_sources) AND to_regclass(ct.buffer_table) IS NOT NULL
                AND (p_force OR NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d
                                  JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = d.pgt_id
                                 WHERE d.source_relid = ct.source_relid AND pgtrickle._owner(s.pgt_id) = p_owner))
    LOOP
        EXECUTE format('REVOKE SELECT ON %s FROM %I', r.buffer_table, p_owner);
    END LOOP;
END
$$;

-- _refresh without changed_sources (catalog version 8 and before) or prune_from (11 and before): a
-- function's result columns cannot be replaced in place.
DO $$
BEGIN
    IF to_regprocedure('pgtrickle._refresh(bigint, text, boolean)') IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_proc WHERE oid = to_regprocedure('pgtrickle._refresh(bigint, text, boolean)')
                                               AND 'prune_from' = ANY (proargnames)) THEN
        DROP FUNCTION pgtrickle._refresh(bigint, text, boolean);
    END IF;
END
$$;

-- The refresh itself, inside the caller's transaction. The caller guarantees that the snapshot
-- of this transaction is the one the result is computed at: REPEATABLE READ, or (initial
-- population) locks on every source so that no snapshot taken now can differ.
--
-- Three steps: _refresh_plan (catalog owner's rights) locks the stream table and decides what to
-- do; the data statement runs with the stream table owner's rights, so a refresh never reads
-- more than its owner may; _refresh_record (catalog owner's rights) stores the outcome. A NO_DATA
-- refresh has no data statement, and _refresh_plan stores it itself. changed_sources: the sources
-- with change rows in the refresh's window, the only ones whose buffers it can make prunable.
-- prune_from: where in those buffers (_prune_changes). A row becomes prunable when its last
-- reader consumes it, and then lies in that reader's window, at or above the xmin of its previous
-- frontier. Rows a prune missed lie lower: it failed, the refresh ran inside a caller's
-- transaction (which does not prune), or a reader given a new query held them back (its
-- _sync_capture runs before the new frontier exists). So one refresh in 16 (by its history id),
-- a FULL or REINITIALIZE one, and one without a previous frontier prune the whole buffer.
CREATE OR REPLACE FUNCTION pgtrickle._refresh(
    p_pgt_id bigint, p_initiated_by text, p_force_full boolean,
    OUT action text, OUT rows_inserted bigint, OUT rows_deleted bigint, OUT reason text, OUT history_id bigint,
    OUT changed_sources oid[], OUT prune_from xid8)
LANGUAGE plpgsql VOLATILE AS $$
-- No SET clause here, on purpose: this function is where a session-level SET made by the user's
-- code (which survives the apply function's own SET clause) becomes visible and is refused. Every
-- name below is schema-qualified, so the caller's search_path decides nothing.
DECLARE
    p record;
    v_session text;
BEGIN
    SELECT * INTO p FROM pgtrickle._refresh_plan(p_pgt_id, p_initiated_by, p_force_full);
    action := p.action;
    reason := p.reason;
    changed_sources := p.changed_sources;
    rows_inserted := 0;
    rows_deleted := 0;
    IF action <> 'NO_DATA' THEN
        v_session := pgtrickle._session_state();
        EXECUTE pg_catalog.format('SELECT ins, del FROM pgtrickle_changes.%I($1, $2, $3, $4)', 'apply_' || p_pgt_id)
           INTO rows_inserted, rows_deleted USING p.frontier, p.old_frontier, p.changed_sources, action;
        PERFORM pgtrickle._require_session_state(v_session, p.st);
    END IF;
    history_id := coalesce(p.history_id,  -- a NO_DATA refresh is recorded by _refresh_plan
        pgtrickle._refresh_record(p_pgt_id, p_initiated_by, p.started, p.frontier, action,
                                  rows_inserted, rows_deleted, p.change_rows, reason, p.fallback));
    prune_from := CASE WHEN action OPERATOR(pg_catalog.=) 'DIFFERENTIAL' AND p.old_frontier IS NOT NULL
                            AND pg_catalog.hashint8(history_id) OPERATOR(pg_catalog.&) 15 OPERATOR(pg_catalog.<>) 0
                       THEN pg_catalog.pg_snapshot_xmin(p.old_frontier) ELSE '0'::pg_catalog.xid8 END;
END
$$;

DROP FUNCTION IF EXISTS pgtrickle._dollar_quote(text);  -- briefly on main (8b715bb)
-- Creates (or replaces) p_function(p_arguments, OUT ins bigint, OUT del bigint), a PL/pgSQL
-- function owned by p_owner that only p_owner (and superusers) may execute, running p_body, which
-- embeds compiled statements: the data step of a refresh (apply_<id>) and of IMMEDIATE maintenance
-- (ivm_apply_<id>). PL/pgSQL keeps embedded statements parsed and planned for the session. Column
-- names win over the function's variable names (a source column called ins still means the
-- column); the body is quoted with a dollar quote that none of its string literals holds. No JIT:
-- the estimates of the change CTEs are those of large inputs, and compiling would cost tens of
-- milliseconds every time. p_signature: the argument types, to name the function.
CREATE OR REPLACE FUNCTION pgtrickle._create_owned_function(
    p_function text, p_arguments text, p_signature text, p_body text, p_owner name)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_quote text := '$pgt_' || md5(p_body) || '$';
BEGIN
    WHILE strpos(p_body, v_quote) > 0 LOOP
        v_quote := '$pgt_' || md5(v_quote) || '$';
    END LOOP;
    EXECUTE format($f$CREATE OR REPLACE FUNCTION %s(%s, OUT ins bigint, OUT del bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET jit = off AS %s
#variable_conflict use_column
%s
%s$f$, p_function, p_arguments, v_quote, p_body, v_quote);
    EXECUTE format('ALTER FUNCTION %s%s OWNER TO %I', p_function, p_signature, p_owner);
    EXECUTE format('REVOKE ALL ON FUNCTION %s%s FROM PUBLIC', p_function, p_signature);
END
$$;

-- The data step of a refresh, as a function owned by the stream table's owner
-- (_create_owned_function): the user's query runs with the owner's rights, and PostgreSQL forbids
-- code inside a SECURITY DEFINER function to change role, so nothing in the query can get back to
-- the caller's (the daemon's) rights. No pinned search_path: the functions a defining query calls
-- see the session's, as in a plain query (the stored SQL itself is fully qualified).
--
-- The compiled SQL is embedded as static statements, not run with EXECUTE, so a repeated refresh (a
-- daemon connection refreshes the same stream tables again and again) skips the parse analysis
-- and planning of a large statement. $1..$3 of the differential SQL are the function's first three
-- arguments. PostgreSQL plans the first executions with their values (p_changed, the sources with
-- changes, then folds the terms of the others away) and keeps a generic plan only where it costs
-- no more; in a generic plan those terms are skipped by a one-time filter. apply_version, stored
-- as the function's comment, tells _refresh_plan when the SQL changed and the function must be
-- rebuilt.
CREATE OR REPLACE FUNCTION pgtrickle._install_apply(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_function text := format('pgtrickle_changes.%I', 'apply_' || p_pgt_id);
    v_signature text := '(pg_snapshot, pg_snapshot, oid[], text)';
    s record;
    v_old regprocedure;
BEGIN
    SELECT diff_apply_sql, full_apply_sql, apply_version INTO s FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    -- Earlier forms (the SQL read from the catalog and run with EXECUTE) had other arguments.
    FOR v_old IN SELECT p.oid::regprocedure FROM pg_proc p
                  WHERE p.pronamespace = 'pgtrickle_changes'::regnamespace AND p.proname = 'apply_' || p_pgt_id
                    AND p.oid IS DISTINCT FROM to_regprocedure(v_function || v_signature)
    LOOP
        EXECUTE format('DROP FUNCTION %s', v_old);
    END LOOP;
    -- INTO on a line of its own: the statements end with a query, never with a comment, but a
    -- line break costs nothing.
    PERFORM pgtrickle._create_owned_function(v_function, 'pg_snapshot, pg_snapshot, oid[], p_action text', v_signature,
        format($f$BEGIN
    PERFORM pg_catalog.set_config('pg_trickle.internal_refresh', 'on', true);
    IF p_action OPERATOR(pg_catalog.=) 'DIFFERENTIAL' THEN
        %s;
    ELSE
        %s
        INTO ins, del;
    END IF;
    PERFORM pg_catalog.set_config('pg_trickle.internal_refresh', 'off', true);
END$f$,
            CASE WHEN s.diff_apply_sql IS NULL
                 THEN format('RAISE EXCEPTION %L USING ERRCODE = %L', 'stream table ' || p_pgt_id || ' has no differential SQL', 'XX000')
                 ELSE s.diff_apply_sql || E'\n        INTO ins, del' END,
            s.full_apply_sql),
        pgtrickle._owner(p_pgt_id));
    EXECUTE format('COMMENT ON FUNCTION %s%s IS %L', v_function, v_signature, s.apply_version);
END
$$;

-- What user code run by a refresh or by IMMEDIATE maintenance could leave behind in the session
-- of the one who runs it (the daemon, or any writer): a session-level search_path, or temporary
-- relations that shadow catalog names. Compared before and after; a change aborts the transaction,
-- which undoes it.
-- No SET clause (it would hide the session's search_path); every name and operator is qualified.
CREATE OR REPLACE FUNCTION pgtrickle._session_state()
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- Most sessions have no temporary schema: then the answer is a simple expression (a query
    -- costs a refresh 20-50 us, and it asks twice).
    IF pg_catalog.pg_my_temp_schema() OPERATOR(pg_catalog.=) 0 THEN
        RETURN pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.||) '|0';
    END IF;
    -- IMMEDIATE maintenance creates its own session tables (pgt_ivm_*); they shadow nothing.
    -- Objects of the temporary schema are counted through their dependency on it (an index
    -- lookup in pg_depend), not in pg_class, which has no index on the schema alone: that count
    -- read all of pg_class twice a refresh in every session that ever had a temporary object
    -- (creating a stream table makes one), 0.2 ms each with an empty catalog and growing with it.
    -- Tables, views, sequences and types each depend on their schema; indexes do not, and
    -- shadow nothing. Their names are folded in too: renaming a temporary table to a source's
    -- name keeps the count.
    RETURN pg_catalog.current_setting('search_path') OPERATOR(pg_catalog.||) '|' OPERATOR(pg_catalog.||)
           (SELECT pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||)
                   coalesce(pg_catalog.sum(pg_catalog.hashtext(coalesce(c.relname, t.typname)::pg_catalog.text)), 0)::pg_catalog.text
              FROM pg_catalog.pg_depend d
              LEFT JOIN pg_catalog.pg_class c
                     ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass
                    AND c.oid OPERATOR(pg_catalog.=) d.objid
              LEFT JOIN pg_catalog.pg_type t
                     ON d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_type'::pg_catalog.regclass
                    AND t.oid OPERATOR(pg_catalog.=) d.objid
             WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass
               AND d.refobjid OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()
               AND d.refobjsubid OPERATOR(pg_catalog.=) 0
               AND coalesce(c.relname OPERATOR(pg_catalog.!~) '^pgt_ivm_', true));
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._require_session_state(p_before text, p_st text)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF pgtrickle._session_state() OPERATOR(pg_catalog.<>) p_before THEN
        RAISE EXCEPTION 'the defining query of stream table % changed the session (search_path or temporary tables)', p_st
            USING ERRCODE = '42501',
                  HINT = 'Functions called by a defining query must not change search_path with SET or create temporary tables.';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._refresh_plan(
    p_pgt_id bigint, p_initiated_by text, p_force_full boolean,
    OUT action text, OUT reason text, OUT frontier pg_snapshot, OUT old_frontier pg_snapshot,
    OUT change_rows bigint, OUT fallback boolean, OUT owner name, OUT st text, OUT started timestamptz,
    OUT changed_sources oid[], OUT history_id bigint)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan AS $$
-- Paid by every refresh, a no-op one too, so it runs few statements: one reads the catalog row
-- (without its large columns: the compiled SQL, the explain texts), its owner and the caller, and
-- its sources (gone, unreadable by the owner, uncaptured, their size) in one pass; a NO_DATA
-- refresh is recorded here, without a call of _refresh_record. Each statement costs 20-100 us on
-- a slow machine, and a no-op refresh ran 28 of them. The checks fail through _require_owner and
-- _require_read, which hold their messages.
DECLARE
    s         record;
    v_pending record;
    v_force_setting boolean;
    v_ratio   double precision;
    v_margin  double precision;
    v_costly  record;
BEGIN
    started := clock_timestamp();
    -- Taken before the catalog row is locked: the lock assigns this transaction an xid, which
    -- _frontier_snapshot must then splice into the snapshot. An xid assigned from here on marks
    -- no change to this stream table's sources (the refresh writes its storage, the catalog and
    -- the history), so leaving it out changes nothing; one assigned before (the caller's own
    -- writes to sources) is still spliced in. Under REPEATABLE READ the snapshot is the same.
    frontier := pgtrickle._frontier_snapshot();
    SELECT t.pgt_schema, t.pgt_name, t.status, t.is_populated, t.needs_reinit, t.reinit_reason, t.frontier,
           t.refresh_mode, t.requested_refresh_mode, t.unsupported_reason, t.apply_version, t.last_full_ms,
           t.last_full_source_rows, t.refresh_seq, t.recent_diff_costs,
           t.diff_apply_sql IS NOT NULL AS has_diff,
           o.owner,
           coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = o.owner), false) AS owner_super,
           -- _require_owner's test, on the same caller
           CASE WHEN o.owner IS NULL THEN coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = o.invoker), false)
                ELSE pg_has_role(o.invoker, o.owner, 'USAGE') END AS may_refresh,
           -- the sources' size: only the change-ratio fallback of a differential refresh needs it
           d.missing, d.unreadable, d.source_rows, d.all_rows, d.keys_gone,
           (SELECT u.sources FROM pgtrickle._uncaptured_sources(p_pgt_id) u) AS uncaptured
      INTO s
      FROM pgtrickle.pgt_stream_tables t
      LEFT JOIN pg_class c ON c.oid = t.pgt_relid
      CROSS JOIN LATERAL (SELECT pg_get_userbyid(c.relowner) AS owner,
                                 CASE WHEN current_setting('role') = 'none' THEN session_user
                                      ELSE current_setting('role')::name END AS invoker) o
      CROSS JOIN LATERAL (
          SELECT string_agg(quote_ident(dep.source_schema) || '.' || quote_ident(dep.source_name), ', ')
                     FILTER (WHERE sc.oid IS NULL) AS missing,
                 -- _require_read's test (has_table_privilege is NULL for a table that is gone)
                 string_agg(quote_ident(dep.source_schema) || '.' || quote_ident(dep.source_name), ', ')
                     FILTER (WHERE NOT has_table_privilege(o.owner, dep.source_relid, 'SELECT')) AS unreadable,
                 coalesce(sum(greatest(sc.reltuples, 0)) FILTER (WHERE dep.cdc_mode = 'TRIGGER'), 0) AS source_rows,
                 coalesce(sum(greatest(sc.reltuples, 0)), 0) AS all_rows,
                 -- a primary key compiled against whose constraint is gone (_key_constraint_gone, as a join)
                 count(*) FILTER (WHERE sc.oid IS NOT NULL AND dep.primary_key_constraint IS NOT NULL AND pk.oid IS NULL)
                     AS keys_gone
            FROM pgtrickle.pgt_dependencies dep LEFT JOIN pg_class sc ON sc.oid = dep.source_relid
            LEFT JOIN pg_constraint pk ON pk.oid = dep.primary_key_constraint AND pk.conrelid = dep.source_relid
                                      AND pk.contype = 'p'
           WHERE dep.pgt_id = t.pgt_id) d
     WHERE t.pgt_id = p_pgt_id
       FOR UPDATE OF t;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'stream table with id % not found', p_pgt_id USING ERRCODE = '42P01';
    END IF;
    st := quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name);
    IF NOT coalesce(s.may_refresh, false) THEN
        PERFORM pgtrickle._require_owner(p_pgt_id, 'refresh');
    END IF;
    IF s.status IN ('SUSPENDED', 'ERROR') AND p_initiated_by <> 'INITIAL' THEN
        RAISE EXCEPTION 'stream table % is %', st, s.status
            USING ERRCODE = '55000',
                  HINT = 'Resume it first: pgtrickle resume ' || s.pgt_schema || '.' || s.pgt_name
                         || ' (or CALL pgtrickle.resume_stream_table(...)).';
    END IF;
    IF s.missing IS NOT NULL THEN
        RAISE EXCEPTION 'source % of stream table % no longer exists', s.missing, st
            USING ERRCODE = '42P01',
                  HINT = 'Drop the stream table, or give it a new query with create_or_replace.';
    END IF;
    IF s.keys_gone > 0 THEN
        -- the same key added again: recorded, so that later refreshes find it at once
        UPDATE pgtrickle.pgt_dependencies dep
           SET primary_key_constraint = pgtrickle._primary_key_constraint(dep.source_relid)
         WHERE dep.pgt_id = p_pgt_id AND pgtrickle._key_constraint_gone(dep.primary_key_constraint, dep.source_relid)
           AND dep.primary_key = pgtrickle._primary_key(dep.source_relid);
        PERFORM pgtrickle._require_keys(p_pgt_id, st);
    END IF;
    owner := s.owner;
    IF s.unreadable IS NOT NULL THEN
        PERFORM pgtrickle._require_read(p_pgt_id, owner);
    END IF;

    old_frontier := s.frontier;
    SELECT * INTO v_pending FROM pgtrickle._pending_changes(p_pgt_id, frontier);
    change_rows := v_pending.change_rows;
    changed_sources := v_pending.changed_sources;
    fallback := false;
    -- Nothing to do (NO_DATA): recorded here. The buffers' rights, the apply function and the
    -- settings below matter only to a refresh that runs the data statement.
    IF s.is_populated AND NOT s.needs_reinit AND NOT p_force_full AND v_pending.change_rows = 0
       AND s.uncaptured IS NULL THEN
        action := 'NO_DATA';
        reason := 'no source changes';
        history_id := pgtrickle._store_outcome(p_pgt_id, p_initiated_by, started, frontier, action, 0, 0, 0, reason, false);
        RETURN;
    END IF;

    IF NOT s.owner_super THEN  -- a superuser reads every buffer
        PERFORM pgtrickle._grant_buffers_to(p_pgt_id, owner);  -- again after a failure for lack of rights took them back
    END IF;
    -- pg_description read directly: obj_description() is a query of its own
    IF NOT EXISTS (SELECT 1 FROM pg_proc p
                     JOIN pg_description pd ON pd.objoid = p.oid AND pd.classoid = 'pg_proc'::regclass AND pd.objsubid = 0
                    WHERE p.oid = to_regprocedure(format('pgtrickle_changes.%I(pg_snapshot, pg_snapshot, oid[], text)', 'apply_' || p_pgt_id))
                      AND p.proowner = (SELECT oid FROM pg_roles WHERE rolname = owner) AND p.proconfig = '{jit=off}'
                      AND pd.description = s.apply_version) THEN
        PERFORM pgtrickle._install_apply(p_pgt_id);
    END IF;

    v_force_setting := pgtrickle._setting_on('pg_trickle.force_full_refresh', '{{default:pg_trickle.force_full_refresh}}'::boolean);
    v_ratio := pgtrickle._setting_number_or_default('pg_trickle.differential_max_change_ratio',
                   {{default:pg_trickle.differential_max_change_ratio}}, 0, 1, 'number, 0-1 (0 = off)');

    reason := CASE
        WHEN NOT s.is_populated THEN 'initial population'
        WHEN s.needs_reinit THEN coalesce(s.reinit_reason, 'reinitialisation requested')
        WHEN v_pending.capture_lost THEN 'changes were not captured while pg_trickle.cdc_paused or pg_trickle.enabled = off'
        WHEN v_pending.truncated THEN 'a source table was truncated'
        WHEN p_force_full THEN 'full refresh requested'
        WHEN s.uncaptured IS NOT NULL THEN 'sources whose changes are not captured: ' || s.uncaptured
        WHEN s.refresh_mode <> 'DIFFERENTIAL' THEN
            CASE WHEN s.requested_refresh_mode = 'AUTO' AND s.unsupported_reason IS NOT NULL
                 THEN 'differential not possible: ' || s.unsupported_reason ELSE 'source changes' END
        WHEN v_force_setting THEN 'pg_trickle.force_full_refresh is on'
        WHEN s.frontier IS NULL THEN 'no previous frontier'
        WHEN v_ratio > 0 AND v_pending.change_rows > v_ratio * greatest(s.source_rows, 1000)
            THEN format('%s changed rows exceed pg_trickle.differential_max_change_ratio (%s) of the sources', v_pending.change_rows, v_ratio)
        ELSE 'source changes' END;

    -- The cost guard: differential refreshes that recently cost more than a FULL one, for changes
    -- no larger than this one, predict this one does too. Cost grows with the change, so only
    -- smaller (or barely larger) changes are evidence: the newest three of them among the last 200
    -- refreshes, and their median, so that one refresh that waited on a lock or a busy machine
    -- does not decide. Their newest must be among the last 50 refreshes: while FULL refreshes run,
    -- one differential refresh measures again every 50 (the data, its statistics or the plans may
    -- have changed since). The samples are kept on the catalog row (_refresh_record). The last FULL
    -- refresh's time is scaled by the sources' size now against then: often it is the initial
    -- population's, over sources that have grown since.
    IF s.refresh_mode = 'DIFFERENTIAL' AND s.has_diff AND reason = 'source changes' AND s.last_full_ms IS NOT NULL
       AND cardinality(s.recent_diff_costs) >= 3 THEN
        v_margin := pgtrickle._setting_number_or_default('pg_trickle.cost_model_safety_margin',
                        {{default:pg_trickle.cost_model_safety_margin}}, 0, 10, 'number, 0-10 (0 = off)');
        IF v_margin > 0 THEN
            SELECT count(*) AS samples, max(e.n) AS max_rows, min(s.refresh_seq - e.seq) AS newest_age,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY e.ms) AS median_ms
              INTO v_costly
              FROM (SELECT c.seq, c.ms, c.n
                      FROM unnest(s.recent_diff_costs) WITH ORDINALITY c(seq, ms, n, i)
                     WHERE s.refresh_seq - c.seq < 200 AND c.n <= ceil(change_rows * 1.25)
                     ORDER BY c.i LIMIT 3) e;
            IF v_costly.samples = 3 AND v_costly.newest_age < 50 AND v_costly.median_ms >= 50
               AND v_costly.median_ms >= v_margin * s.last_full_ms * greatest(s.all_rows, 1)
                                         / greatest(coalesce(s.last_full_source_rows, 0), 1) THEN
                reason := format('recent differential refreshes of up to %s change rows took a median of %s ms, '
                                 || 'the last FULL refresh %s ms%s (pg_trickle.cost_model_safety_margin = %s); '
                                 || 'this one has %s change rows',
                                 v_costly.max_rows, round(v_costly.median_ms::numeric, 1),
                                 round(s.last_full_ms::numeric, 1),
                                 CASE WHEN greatest(s.all_rows, 1) = greatest(coalesce(s.last_full_source_rows, 0), 1) THEN ''
                                      ELSE format(' over %s source rows, now %s', round(greatest(coalesce(s.last_full_source_rows, 0), 0)::numeric),
                                                  round(s.all_rows::numeric)) END,
                                 v_margin, change_rows);
            END IF;
        END IF;
    END IF;

    IF s.refresh_mode = 'DIFFERENTIAL' AND s.has_diff AND reason = 'source changes' THEN
        action := 'DIFFERENTIAL';
    ELSE
        action := CASE WHEN s.is_populated AND (s.needs_reinit OR v_pending.capture_lost OR v_pending.truncated)
                       THEN 'REINITIALIZE' ELSE 'FULL' END;
        fallback := s.refresh_mode = 'DIFFERENTIAL' AND s.is_populated;
        -- Every FULL refresh that is not the user's own choice says why (AUTO resolved to FULL, or a fallback).
        IF fallback OR (s.is_populated AND s.requested_refresh_mode = 'AUTO' AND s.unsupported_reason IS NOT NULL) THEN
            RAISE NOTICE 'stream table "%.%" using FULL refresh: %', s.pgt_schema, s.pgt_name,
                CASE WHEN fallback THEN reason ELSE s.unsupported_reason END;
        END IF;
    END IF;
END
$$;

-- Stores the outcome of a refresh: the catalog row (frontier, timestamps, cost samples), the
-- sources' frontiers and a history row. For _refresh_plan (NO_DATA) and _refresh_record, which
-- checked the caller (not executable by PUBLIC).
CREATE OR REPLACE FUNCTION pgtrickle._store_outcome(
    p_pgt_id bigint, p_initiated_by text, p_start timestamptz, p_frontier pg_snapshot, p_action text,
    p_rows_inserted bigint, p_rows_deleted bigint, p_change_rows bigint, p_reason text, p_fallback boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_ms double precision := extract(epoch FROM clock_timestamp() - p_start) * 1000;
    v_history_id bigint;
    v_source_rows double precision;
BEGIN
    -- Apart from the UPDATE: with it inside, the generic plan costed the subquery that only a FULL
    -- refresh runs, and the UPDATE was planned again at every refresh.
    IF p_action IN ('FULL', 'REINITIALIZE') THEN
        SELECT coalesce(sum(greatest(c.reltuples, 0)), 0) INTO v_source_rows
          FROM pgtrickle.pgt_dependencies dep JOIN pg_class c ON c.oid = dep.source_relid WHERE dep.pgt_id = p_pgt_id;
    END IF;
    -- One statement (a no-op refresh pays for each one planned and run)
    WITH st AS (
    UPDATE pgtrickle.pgt_stream_tables
       SET frontier = p_frontier,
           last_refresh_at = now(),
           data_timestamp = CASE WHEN p_rows_inserted + p_rows_deleted > 0 OR data_timestamp IS NULL
                                 THEN now() ELSE data_timestamp END,
           is_populated = true,
           needs_reinit = false,
           reinit_reason = NULL,
           status = CASE WHEN status = 'INITIALIZING' THEN 'ACTIVE' ELSE status END,
           consecutive_errors = 0,
           last_full_ms = CASE WHEN p_action IN ('FULL', 'REINITIALIZE') THEN v_ms ELSE last_full_ms END,
           last_full_source_rows = coalesce(v_source_rows, last_full_source_rows),
           -- NO_DATA refreshes do not count: frequent calls that find nothing must not age the samples
           refresh_seq = refresh_seq + CASE WHEN p_action = 'NO_DATA' THEN 0 ELSE 1 END,
           recent_diff_costs = CASE WHEN p_action = 'DIFFERENTIAL'
                                    THEN (ARRAY[ROW(refresh_seq + 1, v_ms, p_change_rows)::pgtrickle.refresh_cost]
                                          || recent_diff_costs)[1:16]
                                    ELSE recent_diff_costs END,
           effective_refresh_mode = CASE WHEN p_action = 'NO_DATA' THEN effective_refresh_mode
                                         WHEN p_action = 'DIFFERENTIAL' THEN 'DIFFERENTIAL' ELSE 'FULL' END,
           last_error_message = NULL, last_error_sqlstate = NULL, last_error_at = NULL,
           updated_at = now()
     WHERE pgt_id = p_pgt_id
    RETURNING data_timestamp),
    source_frontiers AS (
        UPDATE pgtrickle.pgt_source_frontiers SET frontier = p_frontier, updated_at = now() WHERE pgt_id = p_pgt_id)
    INSERT INTO pgtrickle.pgt_refresh_history
        (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
         delta_row_count, refresh_reason, status, initiated_by, was_full_fallback)
    SELECT p_pgt_id, coalesce(st.data_timestamp, now()), p_start, clock_timestamp(), p_action, p_rows_inserted,
           p_rows_deleted, p_change_rows, p_reason, 'COMPLETED', p_initiated_by, p_fallback
      FROM st
    RETURNING refresh_id INTO v_history_id;
    RETURN v_history_id;
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._refresh_record(
    p_pgt_id bigint, p_initiated_by text, p_start timestamptz, p_frontier pg_snapshot, p_action text,
    p_rows_inserted bigint, p_rows_deleted bigint, p_change_rows bigint, p_reason text, p_fallback boolean)
RETURNS bigint LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    SET plan_cache_mode = force_generic_plan AS $$
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'refresh');
    RETURN pgtrickle._store_outcome(p_pgt_id, p_initiated_by, p_start, p_frontier, p_action,
                                    p_rows_inserted, p_rows_deleted, p_change_rows, p_reason, p_fallback);
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
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_retryable boolean := pgtrickle._retryable(p_sqlstate);
    v_max integer := coalesce(nullif(current_setting('pg_trickle.max_consecutive_errors', true), '')::integer,
                              {{default:pg_trickle.max_consecutive_errors}});
    v_old text;
    v_new text;
    v_errors integer;
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'record a failure of');
    INSERT INTO pgtrickle.pgt_refresh_history
        (pgt_id, data_timestamp, start_time, end_time, action, status, initiated_by, error_message, error_sqlstate)
    SELECT p_pgt_id, coalesce(data_timestamp, now()), p_start, clock_timestamp(), 'FULL', 'FAILED', p_initiated_by,
           p_message, p_sqlstate
      FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    -- The owner lost a privilege: it keeps no access to the change buffers of what it cannot read.
    IF p_sqlstate = '42501' THEN
        PERFORM pgtrickle._revoke_buffers(pgtrickle._owner(p_pgt_id),
            ARRAY(SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
                   WHERE d.pgt_id = p_pgt_id AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.source_relid)
                     AND NOT has_table_privilege(pgtrickle._owner(p_pgt_id), d.source_relid, 'SELECT')), true);
    END IF;
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
    FOR r IN SELECT ct.source_relid, ct.buffer_table, ct.buffer_store, c.reltuples,
                    (SELECT quote_ident(n.nspname) || '.' || quote_ident(sc.relname)
                       FROM pg_class sc JOIN pg_namespace n ON n.oid = sc.relnamespace
                      WHERE sc.oid = ct.source_relid) AS source
               FROM pgtrickle.pgt_change_tracking ct
               LEFT JOIN pg_class c ON c.oid = to_regclass(ct.buffer_store)
              ORDER BY ct.source_relid
    LOOP
        CONTINUE WHEN r.source IS NULL;
        source_table := r.source;
        buffer_table := r.buffer_table;
        IF coalesce(r.reltuples, 0) > 100000 THEN
            pending_rows := r.reltuples::bigint;
        ELSE
            -- Rows of the first 100,001 stored batches (one per statement and chunk; a marker is one row).
            EXECUTE format('SELECT coalesce(sum(coalesce(b.__pgt_n, 1)), 0) FROM (SELECT __pgt_n FROM %s LIMIT 100001) b',
                           r.buffer_store) INTO pending_rows;
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

-- The parts of a stream table's name as the user wrote it ('name', 'schema.name', quoted parts
-- allowed), as parse_ident gives them. A name without quotes or capitals is split directly: the
-- exception block that turns parse_ident's error into ours is a subtransaction, paid by every
-- refresh_stream_table. [.], not \., which standard_conforming_strings = off reads as any character.
CREATE OR REPLACE FUNCTION pgtrickle._name_parts(p_name text)
RETURNS text[] LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_name OPERATOR(pg_catalog.~) '^[a-z_][a-z0-9_$]*([.][a-z_][a-z0-9_$]*)?$' THEN
        RETURN pg_catalog.string_to_array(p_name, '.');
    END IF;
    BEGIN
        RETURN pg_catalog.parse_ident(p_name);
    EXCEPTION WHEN OTHERS THEN
        RAISE EXCEPTION 'invalid stream table name "%"', p_name USING ERRCODE = '42602',
            HINT = 'Use ''table'' or ''schema.table''.';
    END;
END
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
    v_parts := pgtrickle._name_parts(p_name);
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
    v_changed oid[];
    v_prune_from xid8;
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
        SELECT history_id, changed_sources, prune_from INTO p_refresh_id, v_changed, v_prune_from
          FROM pgtrickle._refresh(p_pgt_id, p_initiated_by, p_force_full);
    EXCEPTION WHEN OTHERS OR query_canceled THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT,
                                v_hint = PG_EXCEPTION_HINT, v_detail = PG_EXCEPTION_DETAIL;
        v_failed := true;
    END;
    IF v_failed THEN
        COMMIT;  -- the failure is recorded in a transaction of its own, still under the key (below)
    END IF;
    -- The key is held until this transaction commits: its session-level hold goes now, the
    -- transaction-level one taken first (the subquery runs before its outer select) at the COMMIT.
    -- A refresh waiting for the key thus takes its snapshot after this commit; given the key between
    -- an unlock and the commit, it took a snapshot without this refresh's catalog update and failed
    -- at its FOR UPDATE of the catalog row (SQLSTATE 40001). A failing COMMIT or _record_failure
    -- releases the transaction-level hold too: the key never outlives the transaction.
    PERFORM pg_advisory_unlock(v_key) FROM (SELECT pg_advisory_xact_lock(v_key)) l;
    IF v_failed THEN
        PERFORM pgtrickle._record_failure(p_pgt_id, p_initiated_by, v_start, v_state, v_msg);
    END IF;
    COMMIT;
    IF v_failed THEN
        RAISE EXCEPTION USING ERRCODE = v_state, MESSAGE = v_msg, DETAIL = coalesce(v_detail, ''),
            HINT = coalesce(nullif(v_hint, ''), 'The failure is recorded in pgtrickle.pgt_refresh_history.');
    END IF;
    -- Only the buffers of sources with change rows in the window: for any other source (every one,
    -- after a NO_DATA refresh) the frontier moved, but every row it now counts as consumed was so
    -- before, so it makes nothing prunable. A join's unchanged sources are not pruned for nothing
    -- (about 0.3 ms each). A reader that stops reading a source prunes it (_sync_capture); rows a
    -- prune missed otherwise go with the next refresh of a reader that prunes from 0 (_refresh,
    -- prune_from: one in 16, and FULL ones).
    FOREACH v_source IN ARRAY coalesce(v_changed, '{}') LOOP
        PERFORM pgtrickle._prune_changes(v_source, v_prune_from);
    END LOOP;
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.refresh_stream_table(name text, force_full boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    v_refresh_id bigint;
    v_id bigint := pgtrickle._resolve(name);
BEGIN
    PERFORM pgtrickle._require_owner(v_id, 'refresh');
    CALL pgtrickle._refresh_procedure(v_id, 'MANUAL', force_full, true, v_refresh_id);
END
$$;

-- Whether values of a type can be hashed by hash_record_extended. Types without a default hash
-- operator class (json, point, xml ...) are hashed through their text form instead. For a row
-- identity (p_for_identity) also the types whose extended hash folds the value to 32 bits first
-- (hashint8extended: bigint and the timestamps, times, intervals, money, xid8 and pg_lsn built on
-- it), where about 100,000 distinct values already give a likely collision.
DROP FUNCTION IF EXISTS pgtrickle._type_hashable(oid);
CREATE OR REPLACE FUNCTION pgtrickle._type_hashable(p_type oid, p_for_identity boolean DEFAULT false)
RETURNS boolean LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t pg_type%ROWTYPE;
BEGIN
    SELECT * INTO t FROM pg_type WHERE oid = p_type;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF t.typtype = 'd' THEN
        RETURN pgtrickle._type_hashable(t.typbasetype, p_for_identity);
    END IF;
    IF t.typtype = 'e' THEN
        RETURN true;
    END IF;
    IF t.typtype = 'c' OR t.typtype = 'p' OR t.typtype = 'r' OR t.typtype = 'm' THEN
        RETURN false;  -- composite, pseudo, range, multirange: text form is always safe
    END IF;
    IF t.typelem <> 0 AND t.typsubscript = 'array_subscript_handler'::regproc THEN
        RETURN pgtrickle._type_hashable(t.typelem, p_for_identity);
    END IF;
    IF p_for_identity AND t.typnamespace = 'pg_catalog'::regnamespace
       AND t.typname IN ('int8', 'timestamp', 'timestamptz', 'time', 'timetz', 'interval', 'money', 'xid8', 'pg_lsn',
                         'numeric') THEN  -- numeric's hash ignores the sign: 1 and -1 collide
        RETURN false;
    END IF;
    RETURN EXISTS (SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                    WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = p_type);
END
$$;

-- A table's primary key as the engine reads it: its column names in key order, or NULL when it has
-- none checked at each statement (a DEFERRABLE key lets two rows share a value until commit, inside
-- the transaction where IMMEDIATE maintenance runs). pgt_dependencies.primary_key records it for
-- the compiled SQL, which relies on it.
CREATE OR REPLACE FUNCTION pgtrickle._primary_key(p_relid oid)
RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY k.i)
      FROM pg_catalog.pg_index x
      CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, i)
      JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
     WHERE x.indrelid = p_relid AND x.indisprimary AND x.indimmediate
$$;

-- The constraint of the same key (pg_constraint.oid), or NULL: pgt_dependencies.primary_key_constraint.
-- A refresh and IMMEDIATE maintenance look it up by oid, with its table, in a statement they run
-- anyway (an index probe per source, about 3 us). Comparing the keys in pg_index there cost 40-60 us
-- a refresh: a scan of pg_index, which grows with the database's indexes.
CREATE OR REPLACE FUNCTION pgtrickle._primary_key_constraint(p_relid oid)
RETURNS oid LANGUAGE sql STABLE AS $$
    SELECT c.oid FROM pg_catalog.pg_constraint c WHERE c.conrelid = p_relid AND c.contype = 'p' AND NOT c.condeferrable
$$;

-- Whether the primary key constraint recorded for a source (primary_key_constraint) is gone: no
-- primary key of that oid on that table (an oid can be reused: after pg_upgrade, which keeps
-- tables' oids but not constraints', or after wraparound).
CREATE OR REPLACE FUNCTION pgtrickle._key_constraint_gone(p_constraint oid, p_relid oid)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT p_constraint IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint c
                        WHERE c.oid = p_constraint AND c.conrelid = p_relid AND c.contype = 'p')
$$;

-- Run by a refresh (after recording the new constraint of a key dropped and added again on the same
-- columns, which is the same key to the SQL: it names columns) and by IMMEDIATE maintenance when a
-- recorded key constraint is gone. Fails when a source's key now differs: the compiled SQL would
-- store wrong rows once the source holds rows the old key kept apart. Names the sources with their
-- key then and now. Not retried (55000). Reads only.
CREATE OR REPLACE FUNCTION pgtrickle._require_keys(p_pgt_id bigint, p_st text)
RETURNS void LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_changed text;
BEGIN
    SELECT string_agg(format('%I.%I (compiled against (%s), now %s)', d.source_schema, d.source_name,
                             array_to_string(d.primary_key, ', '), coalesce('(' || array_to_string(d.now, ', ') || ')', 'none')),
                      ', ' ORDER BY d.source_schema, d.source_name)
      INTO v_changed
      FROM (SELECT dep.*, pgtrickle._primary_key(dep.source_relid) AS now FROM pgtrickle.pgt_dependencies dep
             WHERE dep.pgt_id = p_pgt_id AND pgtrickle._key_constraint_gone(dep.primary_key_constraint, dep.source_relid)
               AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = dep.source_relid)) d
     WHERE d.primary_key IS DISTINCT FROM d.now;
    IF v_changed IS NOT NULL THEN
        RAISE EXCEPTION 'the primary key of a source of stream table % changed since its query was compiled: %', p_st, v_changed
            USING ERRCODE = '55000',
                  HINT = 'Compile it again: create_or_replace with the same query (then resume it if it is in ERROR), or drop it.';
    END IF;
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

-- ---------------------------------------------------------------------------------------------
-- Lifecycle through SQL. Catalog work (alter, resume, drop, refresh) runs here, in the caller's
-- transaction; compiling a query (create, create_or_replace, alter with a query) is a request to
-- the running daemon (pgtrickle serve). The Java API and the CLI call the same routines.
-- ---------------------------------------------------------------------------------------------

-- A schedule as the catalog stores it (NULL for 'calculated'), or an error naming what is accepted.
-- Mirrors io.pgtrickle.core.schedule.Schedule: durations ('30s', '1h30m', a bare number of
-- seconds), 5- or 6-field cron expressions with their field ranges, @aliases, 'calculated'.
CREATE OR REPLACE FUNCTION pgtrickle._parse_schedule(p_text text)
RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    c_hint constant text := 'Accepted: a duration such as ''500ms'', ''30s'', ''5m'', ''1h'', ''1h30m'' (units ms, s, m, h, d, w), '
        || 'a cron expression such as ''*/5 * * * *'' (5 fields, or 6 with seconds first) or ''@hourly'', '
        || 'or ''calculated'' (as often as the stream tables that read it need).';
    v_s text := btrim(p_text);
    v_lower text := lower(btrim(p_text));
    v_ms numeric := 0;
    m text[];
    v_fields text[];
    v_lo int[]; v_hi int[];
    v_item text; v_part text; v_num text;
BEGIN
    IF p_text IS NULL OR v_s = '' THEN
        RAISE EXCEPTION 'the schedule is empty' USING ERRCODE = '22023', HINT = c_hint;
    END IF;
    IF v_lower = 'calculated' THEN
        RETURN NULL;
    END IF;
    IF v_s LIKE '@%' THEN
        IF v_lower NOT IN ('@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly') THEN
            RAISE EXCEPTION 'invalid cron schedule ''%''', p_text USING ERRCODE = '22023', HINT = c_hint;
        END IF;
        RETURN v_s;
    END IF;
    IF v_s ~ '\s' THEN
        v_fields := regexp_split_to_array(v_s, '\s+');
        IF cardinality(v_fields) = 5 THEN
            v_lo := '{0,0,1,1,0}'; v_hi := '{59,23,31,12,7}';
        ELSIF cardinality(v_fields) = 6 THEN
            v_lo := '{0,0,0,1,1,0}'; v_hi := '{59,59,23,31,12,7}';
        ELSE
            RAISE EXCEPTION 'invalid cron schedule ''%'': a cron expression has 5 or 6 fields, this one has %',
                p_text, cardinality(v_fields) USING ERRCODE = '22023', HINT = c_hint;
        END IF;
        FOR i IN 1 .. cardinality(v_fields) LOOP
            FOREACH v_item IN ARRAY string_to_array(v_fields[i], ',') LOOP
                IF v_item !~ '^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?$' THEN
                    RAISE EXCEPTION 'invalid cron schedule ''%'': field % (''%'') is not valid', p_text, i, v_fields[i]
                        USING ERRCODE = '22023', HINT = c_hint;
                END IF;
                IF v_item LIKE '%/%' AND (split_part(v_item, '/', 2)::numeric < 1
                                          OR split_part(v_item, '/', 2)::numeric > v_hi[i]) THEN
                    RAISE EXCEPTION 'invalid cron schedule ''%'': step % is out of range 1-% in field %',
                        p_text, split_part(v_item, '/', 2), v_hi[i], i USING ERRCODE = '22023', HINT = c_hint;
                END IF;
                FOREACH v_part IN ARRAY regexp_split_to_array(split_part(v_item, '/', 1), '-') LOOP
                    CONTINUE WHEN v_part !~ '^[0-9]+$';
                    IF v_part::numeric < v_lo[i] OR v_part::numeric > v_hi[i] THEN
                        RAISE EXCEPTION 'invalid cron schedule ''%'': % is out of range %-% in field %',
                            p_text, v_part, v_lo[i], v_hi[i], i USING ERRCODE = '22023', HINT = c_hint;
                    END IF;
                END LOOP;
            END LOOP;
        END LOOP;
        RETURN v_s;
    END IF;
    IF v_lower ~ '^[0-9]+$' THEN
        v_ms := v_lower::numeric * 1000;
    ELSIF v_lower ~ '^([0-9]+(ms|s|m|h|d|w))+$' THEN
        FOR m IN SELECT regexp_matches(v_lower, '([0-9]+)(ms|s|m|h|d|w)', 'g') LOOP
            v_ms := v_ms + m[1]::numeric * CASE m[2] WHEN 'ms' THEN 1 WHEN 's' THEN 1000 WHEN 'm' THEN 60000
                WHEN 'h' THEN 3600000 WHEN 'd' THEN 86400000 ELSE 604800000 END;
        END LOOP;
        v_s := v_lower;
    ELSE
        RAISE EXCEPTION 'invalid schedule ''%''', p_text USING ERRCODE = '22023', HINT = c_hint;
    END IF;
    IF v_ms < 100 THEN
        RAISE EXCEPTION 'schedule ''%'' is shorter than the minimum of 100ms', v_s USING ERRCODE = '22023', HINT = c_hint;
    END IF;
    IF v_ms > 9223372036854 THEN
        RAISE EXCEPTION 'schedule ''%'' is too long', p_text USING ERRCODE = '22023', HINT = c_hint;
    END IF;
    RETURN v_s;
END
$$;

-- Changes schedule, refresh mode and status; NULL leaves a property as it is. Returns the notices
-- for the user (the SQL procedure raises them, the Java API returns them).
CREATE OR REPLACE FUNCTION pgtrickle._alter(p_pgt_id bigint, p_schedule text, p_refresh_mode text, p_status text)
RETURNS text[] LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pgtrickle.pgt_stream_tables%ROWTYPE;
    v_st text;
    v_requested text := upper(btrim(p_refresh_mode));
    v_unsupported text;
    v_mode text;
    v_notices text[] := '{}';
    v_source oid;
BEGIN
    IF p_schedule IS NULL AND p_refresh_mode IS NULL AND p_status IS NULL THEN
        RAISE EXCEPTION 'nothing to alter' USING ERRCODE = '22023',
            HINT = 'Give at least one of schedule, refresh mode or status.';
    END IF;
    PERFORM pgtrickle._require_owner(p_pgt_id, 'alter');
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id FOR UPDATE;
    v_st := s.pgt_schema || '.' || s.pgt_name;
    IF p_schedule IS NOT NULL THEN
        UPDATE pgtrickle.pgt_stream_tables SET schedule = pgtrickle._parse_schedule(p_schedule), updated_at = now()
         WHERE pgt_id = p_pgt_id;
    END IF;
    IF p_refresh_mode IS NOT NULL THEN
        IF v_requested = 'INCREMENTAL' THEN
            v_requested := 'DIFFERENTIAL';  -- the original's deprecated alias
        END IF;
        v_unsupported := CASE WHEN s.diff_apply_sql IS NULL
                              THEN coalesce(s.unsupported_reason, 'not compiled for DIFFERENTIAL') END;
        -- The same resolution as io.pgtrickle.core.lifecycle.ModeResolution at create time.
        CASE v_requested
            WHEN 'FULL' THEN
                v_mode := 'FULL';
            WHEN 'AUTO' THEN
                v_mode := CASE WHEN v_unsupported IS NULL THEN 'DIFFERENTIAL' ELSE 'FULL' END;
                IF v_unsupported IS NOT NULL THEN
                    v_notices := v_notices || format('stream table "%s" using FULL refresh: %s', v_st, v_unsupported);
                END IF;
            WHEN 'DIFFERENTIAL' THEN
                IF v_unsupported IS NOT NULL THEN
                    RAISE EXCEPTION 'stream table "%" cannot be maintained incrementally: %', v_st, v_unsupported
                        USING ERRCODE = '0A000', HINT = 'Use refresh mode AUTO (falls back to FULL) or FULL.';
                END IF;
                v_mode := 'DIFFERENTIAL';
            WHEN 'IMMEDIATE' THEN
                IF s.ivm_apply_sql IS NULL THEN
                    RAISE EXCEPTION 'stream table "%" cannot be maintained in IMMEDIATE mode: %', v_st,
                            coalesce(v_unsupported, 'it was compiled by an older release')
                        USING ERRCODE = '0A000', HINT = 'Use FULL or AUTO, or recreate it with create_or_replace.';
                END IF;
                v_mode := 'IMMEDIATE';
            ELSE
                RAISE EXCEPTION 'unknown refresh mode ''%''', p_refresh_mode
                    USING ERRCODE = '22023', HINT = 'Use one of AUTO, FULL, DIFFERENTIAL, IMMEDIATE.';
        END CASE;
        IF v_mode = 'IMMEDIATE' AND s.refresh_mode <> 'IMMEDIATE' THEN
            -- Writers wait until commit; the full recompute that follows (_reinit_immediate) reads a
            -- state no concurrent statement changes, and every later statement is maintained.
            PERFORM pgtrickle._lock_sources(p_pgt_id);
            UPDATE pgtrickle.pgt_stream_tables SET refresh_mode = 'IMMEDIATE', requested_refresh_mode = 'IMMEDIATE',
                   schedule = NULL, needs_reinit = true, reinit_reason = 'switched to IMMEDIATE', recent_diff_costs = '{}',
                   updated_at = now()
             WHERE pgt_id = p_pgt_id;
            PERFORM pgtrickle._ivm_install(p_pgt_id);
        ELSIF s.refresh_mode = 'IMMEDIATE' AND v_mode <> 'IMMEDIATE' THEN
            PERFORM pgtrickle._leave_immediate(p_pgt_id);
            UPDATE pgtrickle.pgt_stream_tables SET refresh_mode = v_mode, requested_refresh_mode = v_requested,
                   recent_diff_costs = '{}', updated_at = now()
             WHERE pgt_id = p_pgt_id;
            FOR v_source IN SELECT source_relid FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_pgt_id LOOP
                PERFORM pgtrickle._sync_capture(v_source);
            END LOOP;
        ELSE
            -- Row identity is the same in both modes, so switching needs no rebuild.
            UPDATE pgtrickle.pgt_stream_tables SET refresh_mode = v_mode, requested_refresh_mode = v_requested,
                   recent_diff_costs = '{}', updated_at = now()
             WHERE pgt_id = p_pgt_id;
        END IF;
    END IF;
    IF p_status IS NOT NULL THEN
        CASE upper(btrim(p_status))
            WHEN 'ACTIVE' THEN
                PERFORM pgtrickle._resume(p_pgt_id);
            WHEN 'PAUSED' THEN
                UPDATE pgtrickle.pgt_stream_tables SET status = 'PAUSED', updated_at = now() WHERE pgt_id = p_pgt_id;
            ELSE
                RAISE EXCEPTION 'invalid status %', p_status
                    USING ERRCODE = '22023', HINT = 'alter accepts ACTIVE or PAUSED.';
        END CASE;
    END IF;
    RETURN v_notices;
END
$$;

-- Back to work after PAUSED, SUSPENDED or ERROR: errors are forgotten, the scheduler takes it
-- again, and an alert 'resumed' says so when it had been stopped.
CREATE OR REPLACE FUNCTION pgtrickle._resume(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_old text;
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'resume');
    SELECT status INTO v_old FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id FOR UPDATE;
    UPDATE pgtrickle.pgt_stream_tables
       SET status = CASE WHEN is_populated THEN 'ACTIVE' ELSE 'INITIALIZING' END,
           consecutive_errors = 0, last_error_message = NULL, last_error_sqlstate = NULL,
           last_error_at = NULL, updated_at = now()
     WHERE pgt_id = p_pgt_id;
    IF v_old IN ('PAUSED', 'SUSPENDED', 'ERROR') THEN
        PERFORM pgtrickle._alert('resumed', p_pgt_id, jsonb_build_object('previous_status', v_old));
    END IF;
END
$$;

-- Removes capture from a source once no stream table reads it: triggers (on every partition),
-- the capture function, the change buffer and the tracking row.
CREATE OR REPLACE FUNCTION pgtrickle._drop_capture_if_unused(p_relid oid)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies WHERE source_relid = p_relid) THEN
        PERFORM pgtrickle._drop_capture(p_relid);
    END IF;
END
$$;

-- Drops a source's change capture: its triggers, routines, buffer and tracking row. For
-- _drop_capture_if_unused, and for the DDL guard when a captured column changed (_on_ddl_end):
-- the readers are then refreshed FULL (_uncaptured_sources) until capture is installed again.
CREATE OR REPLACE FUNCTION pgtrickle._drop_capture(p_relid oid)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_stable text;
    v_target regclass;
    v_trigger text;
BEGIN
    SELECT source_stable_name INTO v_stable FROM pgtrickle.pgt_change_tracking WHERE source_relid = p_relid;
    IF v_stable IS NULL THEN
        RETURN;
    END IF;
    -- The source itself may be gone already (dropped with CASCADE); its triggers went with it.
    IF EXISTS (SELECT 1 FROM pg_class WHERE oid = p_relid) THEN
        FOR v_target IN SELECT t.relid FROM pg_partition_tree(p_relid::regclass) t JOIN pg_class c ON c.oid = t.relid
                         WHERE t.relid = p_relid::regclass OR (t.isleaf AND c.relkind = 'r')
                        UNION SELECT p_relid::regclass
        LOOP
            FOREACH v_trigger IN ARRAY ARRAY['ins', 'upd', 'del', 'trunc'] LOOP
                EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', 'pgt_capture_' || v_trigger || '_' || v_stable, v_target);
            END LOOP;
        END LOOP;
    END IF;
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I()', 'capture_' || v_stable);
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I(pg_snapshot, pg_snapshot)', 'pending_' || v_stable);
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I(oid)', 'prune_' || v_stable);
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I(oid, xid8)', 'prune_' || v_stable);
    EXECUTE format('DROP VIEW IF EXISTS pgtrickle_changes.%I', 'changes_' || v_stable);
    EXECUTE format('DROP TABLE IF EXISTS pgtrickle_changes.%I', 'batches_' || v_stable);
    DELETE FROM pgtrickle.pgt_change_tracking WHERE source_relid = p_relid;
END
$$;

-- Drops a stream table (with p_cascade, every stream table reading it first); returns the names
-- of all dropped, dependents first.
CREATE OR REPLACE FUNCTION pgtrickle._drop(p_pgt_id bigint, p_cascade boolean)
RETURNS text[] LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pgtrickle.pgt_stream_tables%ROWTYPE;
    v_st text;
    v_readers text;
    v_reader bigint;
    v_dropped text[] := '{}';
    v_sources oid[];
    v_owner name;
    v_source oid;
    v_apply regprocedure;
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'drop');
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN v_dropped;  -- dropped already, e.g. by a cascade reaching it twice
    END IF;
    v_st := quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name);
    PERFORM pgtrickle._ivm_uninstall(p_pgt_id);
    SELECT string_agg(quote_ident(r.pgt_schema) || '.' || quote_ident(r.pgt_name), ', ' ORDER BY r.pgt_id) INTO v_readers
      FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables r ON r.pgt_id = d.pgt_id
     WHERE d.source_relid = s.pgt_relid AND d.pgt_id <> p_pgt_id;
    IF v_readers IS NOT NULL AND NOT p_cascade THEN
        RAISE EXCEPTION 'cannot drop stream table %: stream tables % read it', v_st, v_readers
            USING ERRCODE = '2BP01', HINT = 'Drop those first, or drop with cascade to drop them too.';
    END IF;
    FOR v_reader IN SELECT DISTINCT d.pgt_id FROM pgtrickle.pgt_dependencies d
                     WHERE d.source_relid = s.pgt_relid AND d.pgt_id <> p_pgt_id ORDER BY 1
    LOOP
        v_dropped := v_dropped || pgtrickle._drop(v_reader, true);
    END LOOP;
    v_owner := pgtrickle._owner(p_pgt_id);
    SELECT coalesce(array_agg(source_relid), '{}') INTO v_sources FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_pgt_id;
    DELETE FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    FOR v_apply IN SELECT p.oid::regprocedure FROM pg_proc p
                    WHERE p.pronamespace = 'pgtrickle_changes'::regnamespace AND p.proname = 'apply_' || p_pgt_id
    LOOP
        EXECUTE format('DROP FUNCTION %s', v_apply);
    END LOOP;
    PERFORM pgtrickle._drop_capture_if_unused(s.pgt_relid);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I', s.pgt_schema, s.pgt_name);
    PERFORM pgtrickle._revoke_buffers(v_owner, v_sources);
    FOREACH v_source IN ARRAY v_sources LOOP
        PERFORM pgtrickle._drop_capture_if_unused(v_source);
        PERFORM pgtrickle._sync_capture(v_source);
    END LOOP;
    RETURN v_dropped || (s.pgt_schema || '.' || s.pgt_name);
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.alter_stream_table(
    name text, query text DEFAULT NULL, schedule text DEFAULT NULL, refresh_mode text DEFAULT NULL,
    status text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := pgtrickle._resolve(name);
    v_payload jsonb;
    v_notice text;
BEGIN
    IF query IS NOT NULL THEN
        -- A new query must be compiled: the daemon applies it with the other properties given.
        PERFORM pgtrickle._require_owner(v_id, 'alter');
        IF schedule IS NOT NULL THEN
            PERFORM pgtrickle._parse_schedule(schedule);
        END IF;
        SELECT jsonb_build_object('name', quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name),
                                  'query', alter_stream_table.query, 'schedule', alter_stream_table.schedule,
                                  'refresh_mode', alter_stream_table.refresh_mode, 'status', alter_stream_table.status)
          INTO v_payload FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = v_id;
        CALL pgtrickle._request('alter_query', v_payload, 'CALL pgtrickle.alter_stream_table(... query => ...)',
                                'pgtrickle.alter_stream_table_query_deferred');
        RETURN;
    END IF;
    FOREACH v_notice IN ARRAY pgtrickle._alter(v_id, schedule, refresh_mode, status) LOOP
        RAISE NOTICE '%', v_notice;
    END LOOP;
    PERFORM pgtrickle._reinit_immediate(v_id);
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.resume_stream_table(name text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pgtrickle._resume(pgtrickle._resolve(name));
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.drop_stream_table(name text, "cascade" boolean DEFAULT false)
LANGUAGE plpgsql AS $$
DECLARE
    v_dropped text[] := pgtrickle._drop(pgtrickle._resolve(name), "cascade");
BEGIN
    IF cardinality(v_dropped) > 1 THEN
        RAISE NOTICE 'dropped %', array_to_string(v_dropped, ', ');
    END IF;
END
$$;

-- Whether a daemon (pgtrickle serve) leads this database: it holds the session advisory lock
-- 1346851916 ('PGTL') on a dedicated connection (io.pgtrickle.core.schedule.LeaderLock).
CREATE OR REPLACE FUNCTION pgtrickle._daemon_running()
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = 1346851916 AND objsubid = 1
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))
$$;

-- Files a request for the daemon; visible to it only when the caller's transaction commits.
CREATE OR REPLACE FUNCTION pgtrickle._file_request(p_kind text, p_payload jsonb)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO pgtrickle.pgt_requests (kind, payload)
    VALUES (p_kind, p_payload || jsonb_build_object('search_path', current_setting('search_path')))
    RETURNING request_id INTO v_id;
    PERFORM pg_notify('pgtrickle_request', v_id::text);
    RETURN v_id;
END
$$;

-- Hands a request to the daemon and waits for its answer: the engine's notices are raised as
-- NOTICEs, its error is re-raised with its SQLSTATE, message and hint. The request must commit
-- before the daemon can see it, so this cannot run inside a transaction block; p_form names the
-- call in the message that says so, p_deferred the function to use there instead.
CREATE OR REPLACE PROCEDURE pgtrickle._request(p_kind text, p_payload jsonb, p_form text, p_deferred text)
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    r pgtrickle.pgt_requests%ROWTYPE;
    v_timeout double precision := coalesce(nullif(current_setting('pg_trickle.request_timeout_seconds', true), '')::float8,
                                           {{default:pg_trickle.request_timeout_seconds}});
    v_deadline timestamptz;
    v_next_check timestamptz;
    v_notice text;
BEGIN
    -- PL/pgSQL cannot ask whether the CALL is inside a transaction block, where the COMMIT below
    -- fails with SQLSTATE 2D000 (invalid transaction termination). Two signs say so in advance: the
    -- transaction wrote something already, or it started well before this statement (an
    -- interactive BEGIN). now() <> statement_timestamp() alone is no sign: under the extended query
    -- protocol an autocommit statement's transaction starts at its Parse message.
    IF pg_current_xact_id_if_assigned() IS NOT NULL OR statement_timestamp() - now() > interval '1 second' THEN
        RAISE EXCEPTION '% cannot run inside a transaction block', p_form
            USING ERRCODE = '25001',
                  HINT = 'Compiling a query is done by the pgtrickle daemon, which sees the request only after it commits. '
                      || 'Call it outside BEGIN ... COMMIT; or, inside a transaction, file the request with '
                      || p_deferred || '(...) (applied by the daemon when the transaction commits); '
                      || 'or use the pgtrickle CLI or the Java API, which compile in the caller''s transaction.';
    END IF;
    IF NOT pgtrickle._daemon_running() THEN
        RAISE EXCEPTION 'no pgtrickle daemon is running for database %', current_database()
            USING ERRCODE = '55000',
                  HINT = 'Start one (pgtrickle serve --url ...), or do the same with the pgtrickle CLI or the Java API.';
    END IF;
    v_id := pgtrickle._file_request(p_kind, p_payload);
    COMMIT;
    v_deadline := clock_timestamp() + make_interval(secs => v_timeout);
    v_next_check := clock_timestamp() + interval '1 second';
    LOOP
        SELECT * INTO r FROM pgtrickle.pgt_requests WHERE request_id = v_id;
        EXIT WHEN r.status IN ('DONE', 'FAILED');
        IF clock_timestamp() > v_deadline OR (clock_timestamp() > v_next_check AND NOT pgtrickle._daemon_running()) THEN
            -- Withdraw it unless the daemon is working on it (then this waits for the daemon's answer).
            UPDATE pgtrickle.pgt_requests SET status = 'CANCELLED', finished_at = now()
             WHERE request_id = v_id AND status = 'PENDING';
            IF FOUND THEN
                COMMIT;
                RAISE EXCEPTION 'request % was not taken up by a pgtrickle daemon within % s; withdrawn', v_id,
                        round(extract(epoch FROM clock_timestamp() - (v_deadline - make_interval(secs => v_timeout))))
                    USING ERRCODE = '57014',
                          HINT = 'Check that pgtrickle serve runs for this database (SELECT * FROM pgtrickle.health_check()), '
                              || 'or raise pg_trickle.request_timeout_seconds.';
            END IF;
            CONTINUE;
        END IF;
        IF clock_timestamp() > v_next_check THEN
            v_next_check := clock_timestamp() + interval '1 second';
        END IF;
        COMMIT;
        PERFORM pg_sleep(0.01);
    END LOOP;
    FOREACH v_notice IN ARRAY coalesce(r.notices, '{}') LOOP
        RAISE NOTICE '%', v_notice;
    END LOOP;
    IF r.status = 'FAILED' THEN
        RAISE EXCEPTION USING ERRCODE = coalesce(r.error_sqlstate, 'XX000'), MESSAGE = r.error_message,
            HINT = coalesce(r.error_hint, '');
    END IF;
END
$$;

-- The create options as a request payload; NULL options take the engine's defaults.
CREATE OR REPLACE FUNCTION pgtrickle._create_payload(
    p_name text, p_query text, p_schedule text, p_refresh_mode text, p_initialize boolean)
RETURNS jsonb LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_parts text[];
BEGIN
    IF p_name IS NULL OR p_query IS NULL THEN
        RAISE EXCEPTION 'name and query must not be NULL' USING ERRCODE = '22004';
    END IF;
    IF p_schedule IS NULL THEN
        RAISE EXCEPTION 'schedule must not be NULL' USING ERRCODE = '22004',
            HINT = 'Use ''calculated'' to refresh as often as the stream tables that read it need.';
    END IF;
    PERFORM pgtrickle._parse_schedule(p_schedule);
    v_parts := pgtrickle._name_parts(p_name);
    -- An unqualified name goes to the caller's current schema, not the daemon's.
    IF cardinality(v_parts) = 1 THEN
        IF current_schema() IS NULL THEN
            RAISE EXCEPTION 'no schema to create % in: the search path names no existing schema', p_name
                USING ERRCODE = '3F000', HINT = 'Qualify the name, e.g. public.' || p_name || '.';
        END IF;
        p_name := quote_ident(current_schema()) || '.' || quote_ident(v_parts[1]);
    END IF;
    RETURN jsonb_build_object('name', p_name, 'query', p_query, 'schedule', p_schedule,
                              'refresh_mode', coalesce(p_refresh_mode, 'AUTO'), 'initialize', coalesce(p_initialize, true));
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.create_stream_table(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
LANGUAGE plpgsql AS $$
BEGIN
    CALL pgtrickle._request('create', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize),
                            'CALL pgtrickle.create_stream_table(...)', 'pgtrickle.create_stream_table_deferred');
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.create_or_replace_stream_table(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
LANGUAGE plpgsql AS $$
BEGIN
    CALL pgtrickle._request('create_or_replace', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize),
                            'CALL pgtrickle.create_or_replace_stream_table(...)', 'pgtrickle.create_or_replace_stream_table_deferred');
END
$$;

CREATE OR REPLACE PROCEDURE pgtrickle.create_stream_table_if_not_exists(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
LANGUAGE plpgsql AS $$
BEGIN
    CALL pgtrickle._request('create_if_not_exists', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize),
                            'CALL pgtrickle.create_stream_table_if_not_exists(...)', 'pgtrickle.create_stream_table_if_not_exists_deferred');
END
$$;

-- Deferred forms, for use inside a transaction (a migration tool's, say): the request is filed
-- now and applied by the daemon after the transaction commits (nothing happens if it rolls back).
-- They return the request id; pgtrickle.pgt_requests shows its outcome.
CREATE OR REPLACE FUNCTION pgtrickle.create_stream_table_deferred(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pgtrickle._file_request('create', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize))
$$;

CREATE OR REPLACE FUNCTION pgtrickle.create_or_replace_stream_table_deferred(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pgtrickle._file_request('create_or_replace', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize))
$$;

CREATE OR REPLACE FUNCTION pgtrickle.create_stream_table_if_not_exists_deferred(
    name text, query text, schedule text DEFAULT 'calculated', refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true)
RETURNS bigint LANGUAGE sql VOLATILE AS $$
    SELECT pgtrickle._file_request('create_if_not_exists', pgtrickle._create_payload(name, query, schedule, refresh_mode, initialize))
$$;

CREATE OR REPLACE FUNCTION pgtrickle.alter_stream_table_query_deferred(name text, query text)
RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_id bigint := pgtrickle._resolve(name);
BEGIN
    IF query IS NULL THEN
        RAISE EXCEPTION 'query must not be NULL' USING ERRCODE = '22004';
    END IF;
    PERFORM pgtrickle._require_owner(v_id, 'alter');
    RETURN pgtrickle._file_request('alter_query', jsonb_build_object(
        'name', (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id),
        'query', query));
END
$$;

-- The internal routines are not part of the API; those that act for a caller check it themselves.
DROP FUNCTION IF EXISTS pgtrickle._revoke_buffers(name, oid[]);
REVOKE EXECUTE ON FUNCTION pgtrickle._grant_buffers(bigint), pgtrickle._grant_buffers_to(bigint, name),
    pgtrickle._revoke_buffers(name, oid[], boolean),
    pgtrickle._install_apply(bigint),
    pgtrickle._store_outcome(bigint, text, timestamptz, pg_snapshot, text, bigint, bigint, bigint, text, boolean),
    pgtrickle._drop_capture_if_unused(oid), pgtrickle._prune_history(double precision, integer) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------
-- IMMEDIATE mode: the stream table is maintained inside every statement that changes a source.
--
-- Each source gets, per IMMEDIATE stream table <id>, a BEFORE statement trigger and AFTER
-- statement triggers with transition tables, all calling pgtrickle_changes.ivm_<id>(), a function
-- owned by the stream table's owner (so maintenance runs with its rights). The AFTER triggers copy
-- the statement's rows into pg_temp.pgt_ivm_<id>_<source relid>, laid out like a change buffer,
-- and the stream table's differential SQL compiled over those tables (ivm_apply_sql) applies them.
--
-- One statement may change several sources (writable CTEs, cascading foreign keys, triggers). The
-- BEFORE triggers of all of them fire before the first AFTER statement trigger, and nested
-- statements finish inside the outer one; a per-transaction depth count (a local setting, undone
-- with a rolled-back savepoint) therefore reaches zero only once every change of the round is
-- copied, and only then is the stream table maintained, from all of them at once.
-- ---------------------------------------------------------------------------------------------

-- Serialises writers of an EXCLUSIVE-mode stream table: the row lock on its catalog row is held to
-- commit, and under REPEATABLE READ a writer whose snapshot misses another's committed maintenance
-- fails with 40001 (the update conflict) instead of computing from a stale state. ROW mode takes
-- nothing. EXECUTE is granted to the owners of IMMEDIATE stream tables only.
CREATE OR REPLACE FUNCTION pgtrickle._ivm_lock(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    UPDATE pgtrickle.pgt_stream_tables SET ivm_exclusive_count = ivm_exclusive_count + 1
     WHERE pgt_id = p_pgt_id AND ivm_lock_mode = 'EXCLUSIVE';
END
$$;

-- The session's table of transition rows for one source of one stream table, created on first use.
CREATE OR REPLACE FUNCTION pgtrickle._ivm_temp_table(p_pgt_id bigint, p_source oid)
RETURNS text LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_name text := 'pgt_ivm_' || p_pgt_id || '_' || p_source;
    v_drops text;
BEGIN
    IF to_regclass('pg_temp.' || quote_ident(v_name)) IS NULL THEN
        EXECUTE format('CREATE TEMP TABLE %I (__pgt_change_id bigint, __pgt_xid xid8 NOT NULL, '
                       || '__pgt_action "char" NOT NULL, LIKE %s)', v_name, p_source::regclass);
        -- LIKE copies NOT NULL, but the triggers copy only the columns they were installed with: a
        -- VIRTUAL generated column reads as NULL from a transition table, and a column added since
        -- is left out.
        SELECT string_agg(format('ALTER COLUMN %I DROP NOT NULL', a.attname), ', ') INTO v_drops
          FROM pg_attribute a
         WHERE a.attrelid = ('pg_temp.' || quote_ident(v_name))::regclass AND a.attnum > 0
           AND a.attnotnull AND NOT a.attisdropped AND a.attname NOT IN ('__pgt_xid', '__pgt_action');
        IF v_drops IS NOT NULL THEN
            EXECUTE format('ALTER TABLE pg_temp.%I %s', v_name, v_drops);
        END IF;
    END IF;
    RETURN v_name;
END
$$;

-- Applies the round's transition rows (or, after a TRUNCATE, recomputes) and empties the tables.
-- Runs as the stream table's owner (called from its trigger function).
CREATE OR REPLACE FUNCTION pgtrickle._ivm_maintain(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    s record;
    v_ins bigint;
    v_del bigint;
    v_tables text[] := '{}';
    v_table text;
    v_full text := 'pg_trickle.ivm_full_' || p_pgt_id;
    v_next text;
    v_changed oid[] := '{}';
    v_source oid;
    v_any boolean;
BEGIN
    SELECT t.ivm_apply_sql, t.full_apply_sql, t.refresh_mode, quote_ident(t.pgt_schema) || '.' || quote_ident(t.pgt_name) AS st,
           -- a primary key compiled against whose constraint is gone (_key_constraint_gone, as a join)
           EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies dep
                     LEFT JOIN pg_constraint pk ON pk.oid = dep.primary_key_constraint AND pk.conrelid = dep.source_relid
                                               AND pk.contype = 'p'
                    WHERE dep.pgt_id = t.pgt_id AND dep.primary_key_constraint IS NOT NULL AND pk.oid IS NULL) AS keys_gone
      INTO s FROM pgtrickle.pgt_stream_tables t WHERE t.pgt_id = p_pgt_id;
    IF s.refresh_mode IS DISTINCT FROM 'IMMEDIATE' THEN
        RETURN;  -- switched away in this transaction; its triggers are gone at commit
    END IF;
    IF s.keys_gone THEN  -- a key added again is not recorded here: the writer has no right to
        PERFORM pgtrickle._require_keys(p_pgt_id, s.st);
    END IF;
    -- The session table of each source, and $3: the sources whose table has rows this round (the
    -- terms of a join's delta over the others are not run: folded away while the statement in
    -- ivm_apply_<id> has custom plans, skipped by a one-time filter with a generic one)
    FOR v_source IN SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
                     WHERE d.pgt_id = p_pgt_id AND d.cdc_mode <> 'NONE' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.source_relid)
    LOOP
        v_table := pgtrickle._ivm_temp_table(p_pgt_id, v_source);
        v_tables := v_tables || v_table;
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM pg_temp.%I)', v_table) INTO v_any;
        IF v_any THEN
            v_changed := v_changed || v_source;
        END IF;
    END LOOP;
    PERFORM set_config('pg_trickle.internal_refresh', 'on', true);
    IF current_setting(v_full, true) = 'on' THEN
        EXECUTE s.full_apply_sql INTO v_ins, v_del;
        PERFORM set_config(v_full, 'off', true);
    ELSE
        -- Every row in the session tables belongs to this round: a window from "all of this
        -- transaction's xids" to "none" (pg_current_snapshot() may count this transaction as
        -- visible once a later one has committed, so it cannot be the lower bound).
        v_next := (pg_current_xact_id()::text::numeric + 1)::text;
        -- The statement is embedded in the owner's function ivm_apply_<id> (_ivm_install_apply),
        -- which keeps it planned for the session. Not a session-level PREPARE: the writer owns its
        -- session and could have prepared a statement of that name itself, which would then run
        -- here with the owner's rights.
        EXECUTE format('SELECT ins, del FROM pgtrickle_changes.%I($1, $2, $3)', 'ivm_apply_' || p_pgt_id)
           INTO v_ins, v_del USING (v_next || ':' || v_next || ':')::pg_snapshot, '1:1:'::pg_snapshot, v_changed;
    END IF;
    PERFORM set_config('pg_trickle.internal_refresh', 'off', true);
    FOREACH v_table IN ARRAY v_tables LOOP
        EXECUTE format('DELETE FROM pg_temp.%I', v_table);
    END LOOP;
END
$$;

-- Capture into change buffers is needed only while a scheduled (non-IMMEDIATE) stream table reads
-- the source: the capture triggers are enabled then, and disabled (buffer emptied) otherwise.
CREATE OR REPLACE FUNCTION pgtrickle._sync_capture(p_source oid)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_stable text;
    v_buffer text;
    v_scheduled boolean;
    t record;
BEGIN
    SELECT source_stable_name, buffer_store INTO v_stable, v_buffer
      FROM pgtrickle.pgt_change_tracking WHERE source_relid = p_source;
    IF v_stable IS NULL THEN
        RETURN;
    END IF;
    v_scheduled := EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = d.pgt_id
                            WHERE d.source_relid = p_source AND s.refresh_mode <> 'IMMEDIATE');
    -- the engine's own ALTER TABLE, which the DDL guard lets pass (_on_ddl_end)
    PERFORM set_config('pg_trickle.internal_ddl', 'on', true);
    FOR t IN SELECT tg.tgrelid::regclass AS rel, tg.tgname, tg.tgenabled FROM pg_trigger tg
              WHERE tg.tgname IN ('pgt_capture_ins_' || v_stable, 'pgt_capture_upd_' || v_stable,
                                  'pgt_capture_del_' || v_stable, 'pgt_capture_trunc_' || v_stable)
    LOOP
        IF v_scheduled AND t.tgenabled = 'D' THEN
            EXECUTE format('ALTER TABLE %s ENABLE TRIGGER %I', t.rel, t.tgname);
        ELSIF NOT v_scheduled AND t.tgenabled <> 'D' THEN
            EXECUTE format('ALTER TABLE %s DISABLE TRIGGER %I', t.rel, t.tgname);
        END IF;
    END LOOP;
    PERFORM set_config('pg_trickle.internal_ddl', 'off', true);
    IF NOT v_scheduled AND to_regclass(v_buffer) IS NOT NULL THEN
        EXECUTE format('DELETE FROM %s', v_buffer);
    ELSIF v_scheduled THEN
        -- Called whenever a stream table stops or starts reading the source (dropped, given another
        -- query, made IMMEDIATE): what every remaining reader has consumed goes now. A refresh prunes
        -- only sources whose changes it consumed, so it would wait for the source's next changes.
        PERFORM pgtrickle._prune_changes(p_source);
    END IF;
END
$$;

-- The statement of IMMEDIATE maintenance (ivm_apply_sql) as a function owned by the stream table's
-- owner (_create_owned_function): the session keeps it planned, so a writing statement does not
-- pay for planning it.
CREATE OR REPLACE FUNCTION pgtrickle._ivm_install_apply(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_owner name := pgtrickle._owner(p_pgt_id);
    v_sql text;
BEGIN
    SELECT ivm_apply_sql INTO v_sql FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id;
    IF v_sql IS NULL THEN
        RETURN;  -- nothing compiled: the stream table is not IMMEDIATE
    END IF;
    PERFORM pgtrickle._create_owned_function(format('pgtrickle_changes.%I', 'ivm_apply_' || p_pgt_id),
        'pg_snapshot, pg_snapshot, oid[]', '(pg_snapshot, pg_snapshot, oid[])',
        'BEGIN' || E'\n' || v_sql || E'\n    INTO ins, del;\nEND', v_owner);
    -- _ivm_maintain, running as the owner, calls it by name.
    IF NOT has_schema_privilege(v_owner, 'pgtrickle_changes', 'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA pgtrickle_changes TO %I', v_owner);
    END IF;
END
$$;

-- Installs IMMEDIATE maintenance for a stream table whose ivm_apply_sql is compiled: the trigger
-- function, owned by the stream table's owner, and its triggers on every source (and partition).
CREATE OR REPLACE FUNCTION pgtrickle._ivm_install(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_owner name := pgtrickle._owner(p_pgt_id);
    v_function text := format('pgtrickle_changes.%I', 'ivm_' || p_pgt_id);
    v_depth text := quote_literal('pg_trickle.ivm_depth_' || p_pgt_id);
    v_full text := quote_literal('pg_trickle.ivm_full_' || p_pgt_id);
    d record;
    v_target regclass;
    v_columns text;
    v_args text;
BEGIN
    PERFORM pgtrickle._require_owner(p_pgt_id, 'alter');
    -- Maintenance runs inside the writers' statements, as a trigger of the source tables does: only
    -- those who could put triggers on every source may have it (their owner, or a superuser).
    IF NOT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = v_owner), false) THEN
        PERFORM 1 FROM pgtrickle.pgt_dependencies dep JOIN pg_class c ON c.oid = dep.source_relid
         WHERE dep.pgt_id = p_pgt_id AND dep.cdc_mode <> 'NONE' AND NOT pg_has_role(v_owner, c.relowner, 'USAGE');
        IF FOUND THEN
            RAISE EXCEPTION 'role % cannot have IMMEDIATE maintenance on tables it does not own: %', v_owner,
                    (SELECT string_agg(quote_ident(dep.source_schema) || '.' || quote_ident(dep.source_name), ', ')
                       FROM pgtrickle.pgt_dependencies dep JOIN pg_class c ON c.oid = dep.source_relid
                      WHERE dep.pgt_id = p_pgt_id AND dep.cdc_mode <> 'NONE' AND NOT pg_has_role(v_owner, c.relowner, 'USAGE'))
                USING ERRCODE = '42501',
                      HINT = 'IMMEDIATE maintenance runs inside every writer''s statement, like a trigger on the source; '
                          || 'use DIFFERENTIAL, or have the owner of the sources create it.';
        END IF;
    END IF;
    PERFORM pgtrickle._ivm_uninstall(p_pgt_id);
    PERFORM pgtrickle._ivm_install_apply(p_pgt_id);
    EXECUTE format($f$
CREATE FUNCTION %1$s() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
    v_depth integer := coalesce(nullif(current_setting(%2$s, true), ''), '0')::integer;
    v_table text;
    v_session text;
BEGIN
    IF TG_WHEN = 'BEFORE' THEN
        IF v_depth = 0 THEN
            PERFORM pgtrickle._ivm_lock(%4$s);
        END IF;
        PERFORM set_config(%2$s, (v_depth + 1)::text, true);
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM set_config(%3$s, 'on', true);
    ELSE
        v_table := pgtrickle._ivm_temp_table(%4$s, TG_ARGV[0]::oid);
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            EXECUTE format('INSERT INTO pg_temp.%%I (__pgt_xid, __pgt_action%%s) SELECT pg_current_xact_id(), ''D''%%s FROM __pgt_old',
                           v_table, TG_ARGV[1], TG_ARGV[1]);
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            EXECUTE format('INSERT INTO pg_temp.%%I (__pgt_xid, __pgt_action%%s) SELECT pg_current_xact_id(), ''I''%%s FROM __pgt_new',
                           v_table, TG_ARGV[1], TG_ARGV[1]);
        END IF;
    END IF;
    PERFORM set_config(%2$s, (v_depth - 1)::text, true);
    IF v_depth <= 1 THEN
        v_session := pgtrickle._session_state();
        PERFORM pgtrickle._ivm_maintain(%4$s);
        PERFORM pgtrickle._require_session_state(v_session, %5$L);
    END IF;
    RETURN NULL;
END
$body$
$f$, v_function, v_depth, v_full, p_pgt_id,
        (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id));
    EXECUTE format('ALTER FUNCTION %s() OWNER TO %I', v_function, v_owner);
    EXECUTE format('REVOKE ALL ON FUNCTION %s() FROM PUBLIC', v_function);
    EXECUTE format('GRANT EXECUTE ON FUNCTION pgtrickle._ivm_lock(bigint) TO %I', v_owner);
    FOR d IN SELECT dep.source_relid, dep.columns_used, dep.primary_key FROM pgtrickle.pgt_dependencies dep
              WHERE dep.pgt_id = p_pgt_id AND dep.cdc_mode <> 'NONE'
                AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = dep.source_relid)
    LOOP
        -- The columns the SQL reads and the key it was compiled against (all it reads of the session
        -- table), each with its leading comma: any other column may be dropped or renamed without
        -- failing the writes, and these are guarded (pg_trickle.block_source_ddl).
        SELECT coalesce(string_agg(', ' || quote_ident(a.attname), '' ORDER BY a.attnum), '') INTO v_columns
          FROM pg_attribute a
         WHERE a.attrelid = d.source_relid AND a.attnum > 0 AND NOT a.attisdropped
           AND (a.attname = ANY (d.columns_used) OR a.attname = ANY (d.primary_key));
        v_args := quote_literal(d.source_relid::text) || ', ' || quote_literal(v_columns);
        FOR v_target IN SELECT t.relid FROM pg_partition_tree(d.source_relid::regclass) t JOIN pg_class c ON c.oid = t.relid
                         WHERE t.relid = d.source_relid::regclass OR (t.isleaf AND c.relkind = 'r')
                        UNION SELECT d.source_relid::regclass
        LOOP
            EXECUTE format('CREATE TRIGGER %I BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s '
                           || 'FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)', 'pgt_ivm_before_' || p_pgt_id, v_target, v_function, v_args);
            EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS __pgt_new '
                           || 'FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)', 'pgt_ivm_ins_' || p_pgt_id, v_target, v_function, v_args);
            EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS __pgt_old NEW TABLE AS __pgt_new '
                           || 'FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)', 'pgt_ivm_upd_' || p_pgt_id, v_target, v_function, v_args);
            EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS __pgt_old '
                           || 'FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)', 'pgt_ivm_del_' || p_pgt_id, v_target, v_function, v_args);
            EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %s '
                           || 'FOR EACH STATEMENT EXECUTE FUNCTION %s(%s)', 'pgt_ivm_trunc_' || p_pgt_id, v_target, v_function, v_args);
        END LOOP;
    END LOOP;
    -- IMMEDIATE stream tables consume no change buffer.
    DELETE FROM pgtrickle.pgt_source_frontiers WHERE pgt_id = p_pgt_id;
    FOR d IN SELECT source_relid FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_pgt_id LOOP
        PERFORM pgtrickle._sync_capture(d.source_relid);
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._ivm_uninstall(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tg.tgrelid::regclass AS rel, tg.tgname FROM pg_trigger tg
              WHERE tg.tgname IN ('pgt_ivm_before_' || p_pgt_id, 'pgt_ivm_ins_' || p_pgt_id, 'pgt_ivm_upd_' || p_pgt_id,
                                  'pgt_ivm_del_' || p_pgt_id, 'pgt_ivm_trunc_' || p_pgt_id)
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', t.tgname, t.rel);
    END LOOP;
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I()', 'ivm_' || p_pgt_id);
    EXECUTE format('DROP FUNCTION IF EXISTS pgtrickle_changes.%I(pg_snapshot, pg_snapshot, oid[])', 'ivm_apply_' || p_pgt_id);
    -- This session's tables, and prepared statements of earlier releases (other sessions' end with them).
    FOR t IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = pg_my_temp_schema() AND c.relname LIKE 'pgt\_ivm\_' || p_pgt_id || '\_%'
    LOOP
        EXECUTE format('DROP TABLE IF EXISTS pg_temp.%I', t.relname);
    END LOOP;
    FOR t IN SELECT name FROM pg_prepared_statements WHERE name LIKE 'pgt\_ivm\_' || p_pgt_id || '\_%' LOOP
        EXECUTE format('DEALLOCATE %I', t.name);
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION pgtrickle._ivm_lock(bigint), pgtrickle._ivm_install(bigint), pgtrickle._ivm_uninstall(bigint),
    pgtrickle._ivm_install_apply(bigint), pgtrickle._create_owned_function(text, text, text, text, name),
    pgtrickle._sync_capture(oid) FROM PUBLIC;

-- IMMEDIATE stream tables of earlier releases ran their statement as a session-level prepared
-- statement: they get the function on install.
DO $$
DECLARE
    v_id bigint;
BEGIN
    FOR v_id IN SELECT s.pgt_id FROM pgtrickle.pgt_stream_tables s
                 WHERE s.refresh_mode = 'IMMEDIATE' AND s.ivm_apply_sql IS NOT NULL
                   AND to_regprocedure(format('pgtrickle_changes.%I(pg_snapshot, pg_snapshot, oid[])', 'ivm_apply_' || s.pgt_id)) IS NULL
                   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.pgt_relid)
    LOOP
        PERFORM pgtrickle._ivm_install_apply(v_id);
    END LOOP;
END
$$;

-- IMMEDIATE stream tables of earlier releases copy every column of their sources (named in their
-- triggers), so dropping any column failed the writes: their maintenance is installed again.
DO $$
DECLARE
    v_id bigint;
BEGIN
    FOR v_id IN SELECT s.pgt_id FROM pgtrickle.pgt_stream_tables s
                  JOIN pg_proc p ON p.oid = to_regprocedure(format('pgtrickle_changes.%I()', 'ivm_' || s.pgt_id))
                 WHERE s.refresh_mode = 'IMMEDIATE' AND p.prosrc LIKE '%(__pgt_xid, __pgt_action, %'
                   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = s.pgt_relid)
    LOOP
        BEGIN
            PERFORM pgtrickle._ivm_install(v_id);
        EXCEPTION WHEN OTHERS THEN  -- an install must not fail for one stream table's sake
            RAISE NOTICE 'pg_trickle: the IMMEDIATE maintenance of stream table % is left as it was: %', v_id, SQLERRM;
        END;
    END LOOP;
END
$$;

-- Locks the stream table's sources against writers until commit (SHARE ROW EXCLUSIVE: readers go on).
CREATE OR REPLACE FUNCTION pgtrickle._lock_sources(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_tables text;
BEGIN
    SELECT string_agg(d.source_relid::regclass::text, ', ') INTO v_tables
      FROM pgtrickle.pgt_dependencies d
     WHERE d.pgt_id = p_pgt_id AND d.cdc_mode <> 'NONE' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = d.source_relid);
    IF v_tables IS NOT NULL THEN
        EXECUTE 'LOCK TABLE ' || v_tables || ' IN SHARE ROW EXCLUSIVE MODE';
    END IF;
END
$$;

-- From IMMEDIATE back to a scheduled mode: the stream table is exact now, so its frontier becomes
-- "everything committed so far", and changes from here on (this transaction's included, as they are
-- not yet visible to pg_current_snapshot()) are captured for its next refresh. Refused when this
-- transaction already wrote rows into a change buffer of its sources: those rows are maintained
-- already and would be applied twice.
CREATE OR REPLACE FUNCTION pgtrickle._leave_immediate(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    r record;
    v_own boolean;
    v_frontier pg_snapshot;
BEGIN
    PERFORM pgtrickle._lock_sources(p_pgt_id);
    FOR r IN SELECT ct.buffer_store FROM pgtrickle.pgt_dependencies d
               JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = d.source_relid
              WHERE d.pgt_id = p_pgt_id AND to_regclass(ct.buffer_store) IS NOT NULL
    LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE __pgt_xid = pg_current_xact_id_if_assigned())', r.buffer_store)
          INTO v_own;
        IF v_own THEN
            RAISE EXCEPTION 'cannot switch a stream table out of IMMEDIATE mode in a transaction that has changed its sources'
                USING ERRCODE = '25000', HINT = 'Switch the mode in a transaction of its own.';
        END IF;
    END LOOP;
    PERFORM pgtrickle._ivm_uninstall(p_pgt_id);
    v_frontier := pg_current_snapshot();
    UPDATE pgtrickle.pgt_stream_tables SET frontier = v_frontier WHERE pgt_id = p_pgt_id;
    -- Every captured kind of source, as at create: one whose capture the DDL guard dropped is read
    -- FULL meanwhile (_uncaptured_sources), and needs its row once capture is installed again.
    INSERT INTO pgtrickle.pgt_source_frontiers (pgt_id, source_relid, frontier)
    SELECT p_pgt_id, d.source_relid, v_frontier FROM pgtrickle.pgt_dependencies d
     WHERE d.pgt_id = p_pgt_id AND d.cdc_mode <> 'NONE'
    ON CONFLICT (pgt_id, source_relid) DO UPDATE SET frontier = EXCLUDED.frontier, updated_at = now();
END
$$;

-- After a switch to IMMEDIATE: the full recompute, run with the owner's rights (not from inside a
-- SECURITY DEFINER routine, which cannot change role). The Java API calls it too.
CREATE OR REPLACE FUNCTION pgtrickle._reinit_immediate(p_pgt_id bigint)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_pgt_id AND refresh_mode = 'IMMEDIATE' AND needs_reinit) THEN
        PERFORM pgtrickle._refresh(p_pgt_id, 'MANUAL', true);
    END IF;
END
$$;

REVOKE EXECUTE ON FUNCTION pgtrickle._leave_immediate(bigint) FROM PUBLIC;

-- The depth guard of a UNION ALL recursion (the compiler adds a hidden step counter to such a
-- recursion): a step may go this deep; 0 disables the guard.
CREATE OR REPLACE FUNCTION pgtrickle._recursion_max_depth()
RETURNS integer LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_depth integer := pgtrickle._setting_number('pg_trickle.ivm_recursive_max_depth', {{default:pg_trickle.ivm_recursive_max_depth}},
                                                 0, 1000000, 'integer, 0-1000000 (0 = off)')::integer;
BEGIN
    RETURN CASE WHEN v_depth = 0 THEN 2147483647 ELSE v_depth END;
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._recursion_too_deep(p_depth integer)
RETURNS integer LANGUAGE plpgsql STABLE AS $$
BEGIN
    RAISE EXCEPTION 'pg_trickle: a recursive query went deeper than pg_trickle.ivm_recursive_max_depth = % steps', p_depth
        USING ERRCODE = '54001',
              HINT = 'A cycle in the data makes a UNION ALL recursion endless. If the depth is real, raise the setting (0 disables the guard).';
END
$$;

-- The DDL guard (pg_trickle.block_source_ddl). A stream table's compiled SQL names its sources and
-- their columns, its storage has their types, and a source's capture trigger (or IMMEDIATE
-- maintenance) writes the columns it records on every change: a column dropped, renamed or
-- retyped under them would fail the refreshes, or worse, every write to the table. Three event
-- triggers: pg_trickle_drop_tracker (sql_drop, any command) and pg_trickle_rewrite_tracker
-- (table_rewrite) note, for the statement, which columns of a source were dropped (a column
-- dropped and added again in one statement looks unchanged afterwards) and which sources were
-- rewritten; pg_trickle_ddl_tracker (ddl_command_end of ALTER TABLE and ALTER FOREIGN TABLE) then
-- judges each altered source (_guard_source). Columns dropped by another command (DROP TYPE ...
-- CASCADE) are judged at once by the drop tracker.

-- A collation's qualified name ('' for none): collation oids change under pg_upgrade, names do not.
CREATE OR REPLACE FUNCTION pgtrickle._collation_name(p_collation oid)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT quote_ident(n.nspname) || '.' || quote_ident(co.collname)
                       FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE co.oid = p_collation), '')
$$;

-- The types of a relation's columns p_columns, in their order, as the guard records them: type
-- oid, type modifier and collation ('23/-1/', '25/-1/pg_catalog."default"'), so that renaming a
-- type or a schema changes nothing and another type, modifier or collation does; NULL for a
-- column that is not there (dropped, or renamed). _type_text prints one.
CREATE OR REPLACE FUNCTION pgtrickle._column_types(p_relid oid, p_columns text[])
RETURNS text[] LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT array_agg(a.atttypid::text || '/' || a.atttypmod || '/' || pgtrickle._collation_name(a.attcollation) ORDER BY u.i)
      FROM unnest(p_columns) WITH ORDINALITY u(name, i)
      LEFT JOIN pg_attribute a ON a.attrelid = p_relid AND a.attname = u.name AND a.attnum > 0 AND NOT a.attisdropped
$$;

CREATE OR REPLACE FUNCTION pgtrickle._type_text(p_type text)
RETURNS text LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format_type(t.oid, split_part(p_type, '/', 2)::integer)
           || CASE WHEN c.name IN ('', pgtrickle._collation_name(t.typcollation)) THEN '' ELSE ' COLLATE ' || c.name END
      FROM pg_type t, (SELECT substring(p_type FROM '^[^/]*/[^/]*/(.*)$') AS name) c
     WHERE t.oid = split_part(p_type, '/', 1)::oid
$$;

-- Stream tables and captures of catalogs before versions 10 and 11 (and of main briefly, when the
-- types were recorded as printed): their columns' types now.
UPDATE pgtrickle.pgt_dependencies
   SET column_types = pgtrickle._column_types(source_relid, columns_used)
 WHERE (column_types IS NULL OR EXISTS (SELECT 1 FROM unnest(column_types) x WHERE x !~ '^[0-9]+/-?[0-9]+/([^0-9]|$)'))
   AND cardinality(columns_used) > 0 AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = source_relid);
UPDATE pgtrickle.pgt_change_tracking
   SET captured_types = pgtrickle._column_types(source_relid, captured_columns)
 WHERE (captured_types IS NULL OR EXISTS (SELECT 1 FROM unnest(captured_types) x WHERE x !~ '^[0-9]+/-?[0-9]+/([^0-9]|$)'))
   AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = source_relid);

-- The sources among a relation and its ancestors (p_up) or its descendants: partitions and
-- inheritance children share their parent's columns, and either may be a stream table's source.
CREATE OR REPLACE FUNCTION pgtrickle._sources_related(p_relid oid, p_up boolean)
RETURNS SETOF oid LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH RECURSIVE rel(relid) AS (
        SELECT p_relid
        UNION
        SELECT CASE WHEN p_up THEN i.inhparent ELSE i.inhrelid END
          FROM rel JOIN pg_inherits i ON rel.relid = CASE WHEN p_up THEN i.inhrelid ELSE i.inhparent END)
    SELECT r.relid FROM rel r WHERE EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d WHERE d.source_relid = r.relid)
$$;

-- Signatures briefly on main (a35e96d, e30ccf0, 59acf48)
DROP FUNCTION IF EXISTS pgtrickle._source_changes(oid), pgtrickle._source_changes(oid, text[]),
    pgtrickle._source_changes(oid, text[], boolean), pgtrickle._guard_source(oid, text[], boolean),
    pgtrickle._refuse_ddl_under_immediate(text, text[], text);

-- What changed under the stream tables reading source p_relid (p_dropped: its columns dropped by
-- this statement, which may be there again; p_rewritten: whether it rewrote the table's rows, a
-- change to IMMEDIATE readers only, as the others are reinitialised anyway; p_moves: whether a
-- renamed or moved table counts, not for the engine's own ALTER TABLE): one row per stream table
-- and change, with the stream table's mode, and whether the change is to a column the source's
-- capture records (captured: the capture trigger would fail every write). A captured change with
-- no stream table (pgt_id NULL) is one to a capture kept only for IMMEDIATE readers, which do not
-- use it. A column recorded as missing (let through before) is not a change any more.
CREATE OR REPLACE FUNCTION pgtrickle._source_changes(p_relid oid, p_dropped text[], p_rewritten boolean, p_moves boolean)
RETURNS TABLE(pgt_id bigint, st text, refresh_mode text, change text, captured boolean)
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    WITH readers AS (
        SELECT d.*, s.refresh_mode AS mode, quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) AS st
          FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = d.pgt_id
         WHERE d.source_relid = p_relid AND d.source_type IN ('TABLE', 'FOREIGN_TABLE', 'STREAM_TABLE')),
    needs AS (
        -- the columns a reader's SQL reads, with their recorded types
        SELECT r.pgt_id, r.st, r.mode, u.name, u.was, u.now, false AS captured
          FROM readers r
          CROSS JOIN LATERAL unnest(r.columns_used, r.column_types, pgtrickle._column_types(p_relid, r.columns_used))
                             AS u(name, was, now)
         WHERE r.column_types IS NOT NULL
        UNION ALL
        -- the key an IMMEDIATE reader's SQL was compiled against, which its triggers copy (there or
        -- not; for scheduled readers capture records the key, with its type)
        SELECT r.pgt_id, r.st, r.mode, k.name, coalesce(k.now, '?'), k.now, false
          FROM readers r CROSS JOIN LATERAL unnest(r.primary_key, pgtrickle._column_types(p_relid, r.primary_key)) AS k(name, now)
         WHERE r.mode = 'IMMEDIATE'
        UNION ALL
        -- the captured columns, for the scheduled readers and the IMMEDIATE ones that copy them
        -- (their triggers copy the columns read and the key, _ivm_install)
        SELECT r.pgt_id, r.st, r.mode, c.name, c.was, c.now, true
          FROM pgtrickle.pgt_change_tracking ct
          CROSS JOIN LATERAL unnest(ct.captured_columns, ct.captured_types, pgtrickle._column_types(p_relid, ct.captured_columns))
                             AS c(name, was, now)
          LEFT JOIN readers r ON r.mode <> 'IMMEDIATE' OR c.name = ANY (r.columns_used) OR c.name = ANY (r.primary_key)
         WHERE ct.source_relid = p_relid AND ct.captured_types IS NOT NULL)
    SELECT r.pgt_id, r.st, r.mode,
           format('%s was renamed or moved to %s', quote_ident(r.source_schema) || '.' || quote_ident(r.source_name),
                  quote_ident(n.nspname) || '.' || quote_ident(c.relname)), false
      FROM readers r JOIN pg_class c ON c.oid = p_relid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE p_moves AND (n.nspname, c.relname) <> (r.source_schema, r.source_name)
    UNION
    SELECT r.pgt_id, r.st, r.mode, 'the table''s rows are rewritten (ALTER COLUMN ... TYPE), which IMMEDIATE maintenance does not see',
           false
      FROM readers r
     WHERE p_rewritten AND r.mode = 'IMMEDIATE'
    UNION
    SELECT x.pgt_id, x.st, x.mode,
           CASE WHEN x.now IS NULL THEN format('column %I was dropped or renamed', x.name)
                WHEN x.name = ANY (p_dropped) THEN format('column %I was dropped (and added again)', x.name)
                ELSE format('column %I changed type from %s to %s', x.name, pgtrickle._type_text(x.was),
                            pgtrickle._type_text(x.now)) END,
           x.captured
      FROM needs x
     WHERE x.was IS NOT NULL AND (x.now IS NULL OR x.now <> x.was OR x.name = ANY (p_dropped))
$$;

-- A custom setting of this transaction ('' when unset): the guard's notes (pg_trickle.dropped_columns,
-- a JSON object of source oid -> dropped column names; pg_trickle.rewritten_sources, ' <oid> '
-- items) and pg_trickle.internal_ddl (the engine's own ALTER TABLE of a source, _sync_capture).
CREATE OR REPLACE FUNCTION pgtrickle._ddl_note(p_name text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT coalesce(pg_catalog.current_setting('pg_trickle.' OPERATOR(pg_catalog.||) p_name, true), '')
$$;

-- Judges the change of source p_relid by the statement that ends (p_dropped, p_rewritten: the
-- notes of the trackers). Refuses a change to what its readers need while
-- pg_trickle.block_source_ddl is on, or when an IMMEDIATE stream table needs it (its maintenance
-- runs in every writing transaction). Otherwise the readers are reinitialised on their next
-- refresh (which fails with PostgreSQL's reason if their query no longer works) and the catalog
-- takes the table as it is now; a source whose captured columns changed loses its capture, so that
-- writes to it go on: its readers are refreshed FULL until a create or create_or_replace installs it
-- again. A rewrite alone reinitialises the readers whatever the setting (IMMEDIATE ones refuse it).
CREATE OR REPLACE FUNCTION pgtrickle._guard_source(p_relid oid, p_dropped text[], p_rewritten boolean, p_moves boolean)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_table text;
    r record;
BEGIN
    SELECT string_agg(DISTINCT x.change, '; ') FILTER (WHERE x.st IS NOT NULL) AS changes,
           array_agg(DISTINCT x.st) FILTER (WHERE x.st IS NOT NULL) AS readers,
           array_agg(DISTINCT x.st) FILTER (WHERE x.refresh_mode = 'IMMEDIATE') AS immediate,
           coalesce(bool_or(x.captured), false) AS captured
      INTO r FROM pgtrickle._source_changes(p_relid, p_dropped, p_rewritten, p_moves) x;
    -- as the stream tables know it (and the user wrote it): a rename is one of the changes
    SELECT quote_ident(d.source_schema) || '.' || quote_ident(d.source_name) INTO v_table
      FROM pgtrickle.pgt_dependencies d WHERE d.source_relid = p_relid ORDER BY d.pgt_id LIMIT 1;
    IF r.changes IS NULL AND NOT p_rewritten THEN
        IF r.captured THEN
            -- kept only for IMMEDIATE readers, for whom it is disabled: a later create or
            -- create_or_replace installs it anew
            PERFORM pgtrickle._drop_capture(p_relid);
            RAISE NOTICE 'pg_trickle: the change capture of %, kept for its IMMEDIATE stream tables only, is dropped: '
                         'one switched to DIFFERENTIAL or FULL refreshes FULL until it is created or replaced again', v_table;
        END IF;
        RETURN;
    END IF;
    IF r.immediate IS NOT NULL THEN
        PERFORM pgtrickle._refuse_source_ddl(v_table, 'IMMEDIATE stream table', r.immediate, r.changes,
                    'Switch the stream table to DIFFERENTIAL or FULL first (pgtrickle alter --mode), '
                    || 'or drop it, alter the table, and create it again.');
    END IF;
    IF r.changes IS NOT NULL
       AND pgtrickle._setting_on('pg_trickle.block_source_ddl', '{{default:pg_trickle.block_source_ddl}}'::boolean) THEN
        PERFORM pgtrickle._refuse_source_ddl(v_table, 'stream table', r.readers, r.changes,
                    'Drop the stream tables, alter the table, and create them again; or SET '
                    || 'pg_trickle.block_source_ddl = off to alter it now: they are then reinitialised on '
                    || 'their next refresh, and fail with the reason if their query no longer works.');
    END IF;
    UPDATE pgtrickle.pgt_stream_tables s
       SET needs_reinit = true, updated_at = now(),
           reinit_reason = left(CASE WHEN r.changes IS NULL THEN format('source %s rewritten by ALTER TABLE (ALTER COLUMN ... TYPE)', v_table)
                                     ELSE format('source %s altered: %s', v_table, r.changes) END, 1000)
     WHERE s.refresh_mode <> 'IMMEDIATE'
       AND s.pgt_id IN (SELECT d.pgt_id FROM pgtrickle.pgt_dependencies d WHERE d.source_relid = p_relid);
    IF r.changes IS NULL THEN
        RETURN;
    END IF;
    -- The table as it is now: later changes are compared with it (the readers are rebuilt anyway)
    UPDATE pgtrickle.pgt_dependencies d
       SET column_types = pgtrickle._column_types(d.source_relid, d.columns_used),
           source_schema = n.nspname, source_name = c.relname
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.oid = d.source_relid AND d.source_relid = p_relid;
    IF r.captured THEN
        PERFORM pgtrickle._drop_capture(p_relid);
    END IF;
    RAISE WARNING '% changed under stream table%: %', v_table,
            CASE WHEN cardinality(r.readers) > 1 THEN 's ' ELSE ' ' END || array_to_string(r.readers, ', '), r.changes
        USING DETAIL = 'They are reinitialised on their next refresh'
                       || CASE WHEN r.captured THEN ', and refreshed FULL until one of them is created or replaced again '
                                                    || '(the change capture of the table is dropped)' ELSE '' END || '.',
              HINT = 'Give them a query that fits the table (create_or_replace) if theirs no longer works.';
END
$$;

-- Refuses a change (p_change) of source p_table that stream tables p_readers (of p_kind) need.
CREATE OR REPLACE FUNCTION pgtrickle._refuse_source_ddl(p_table text, p_kind text, p_readers text[], p_change text, p_hint text)
RETURNS void LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RAISE EXCEPTION 'cannot alter % this way: % % %', p_table,
            p_kind || CASE WHEN cardinality(p_readers) > 1 THEN 's' ELSE '' END, array_to_string(p_readers, ', '),
            CASE WHEN cardinality(p_readers) > 1 THEN 'read it' ELSE 'reads it' END
        USING ERRCODE = '2BP01', DETAIL = 'Refused: ' || p_change || '.', HINT = p_hint;
END
$$;

-- pg_trickle_drop_tracker (sql_drop): notes the dropped columns of sources (and of their
-- partitions) for _on_ddl_end. A command other than ALTER TABLE (DROP TYPE ... CASCADE, ALTER TYPE
-- ... DROP ATTRIBUTE ... CASCADE) has no ddl_command_end of the guard: the sources whose columns it
-- dropped are judged here, from what it dropped (never from the notes, which any session may set),
-- except those it dropped too (DROP SCHEMA a, b CASCADE may reach a column before its table).
-- Its helpers must outlive it: a change of their signatures drops this trigger first.
CREATE OR REPLACE FUNCTION pgtrickle._on_sql_drop()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_dropped jsonb;
    v_source text;
BEGIN
    SELECT coalesce(jsonb_object_agg(x.source, x.names), '{}') INTO v_dropped
      FROM (SELECT s.source::text AS source, jsonb_agg(d.address_names[cardinality(d.address_names)]) AS names
              FROM pg_event_trigger_dropped_objects() d
             CROSS JOIN LATERAL pgtrickle._sources_related(d.objid, true) AS s(source)
             WHERE d.object_type IN ('table column', 'foreign table column')
             GROUP BY s.source) x;
    IF v_dropped = '{}' THEN
        RETURN;
    END IF;
    IF TG_TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE') THEN
        PERFORM set_config('pg_trickle.dropped_columns', v_dropped::text, true);  -- for this statement's _on_ddl_end
        RETURN;
    END IF;
    FOR v_source IN SELECT k FROM jsonb_object_keys(v_dropped) k WHERE EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = k::oid) LOOP
        PERFORM pgtrickle._guard_source(v_source::oid, ARRAY(SELECT jsonb_array_elements_text(v_dropped -> v_source)), false, true);
    END LOOP;
END
$$;

-- pg_trickle_rewrite_tracker (table_rewrite): a source whose column values are rewritten (ALTER
-- COLUMN ... TYPE, with or without USING) may hold other values afterwards, written without any
-- trigger firing. Which column was rewritten cannot be told here, so any such rewrite counts.
CREATE OR REPLACE FUNCTION pgtrickle._on_table_rewrite()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_source oid;
BEGIN
    IF (pg_event_trigger_table_rewrite_reason() & 4) = 0 THEN  -- AT_REWRITE_COLUMN_REWRITE
        RETURN;
    END IF;
    FOR v_source IN SELECT pgtrickle._sources_related(pg_event_trigger_table_rewrite_oid(), true) LOOP
        PERFORM set_config('pg_trickle.rewritten_sources', pgtrickle._ddl_note('rewritten_sources') || ' ' || v_source || ' ', true);
    END LOOP;
END
$$;

-- pg_trickle_ddl_tracker (ddl_command_end of ALTER TABLE, ALTER FOREIGN TABLE): judges each altered
-- source, and each of its partitions or inheritance children that is a source itself. The notes
-- are the statement's: taken (and cleared) first, so that the guard's own DDL (dropping a capture)
-- and a later statement start afresh.
CREATE OR REPLACE FUNCTION pgtrickle._on_ddl_end()
RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_dropped jsonb := coalesce(nullif(pgtrickle._ddl_note('dropped_columns'), '')::jsonb, '{}');
    v_rewritten text := pgtrickle._ddl_note('rewritten_sources');
    v_relid oid;
BEGIN
    PERFORM set_config('pg_trickle.dropped_columns', '', true);
    PERFORM set_config('pg_trickle.rewritten_sources', '', true);
    FOR v_relid IN SELECT DISTINCT s.source FROM pg_event_trigger_ddl_commands() c
                    CROSS JOIN LATERAL pgtrickle._sources_related(c.objid, false) AS s(source)
                    WHERE c.classid = 'pg_class'::regclass
    LOOP
        -- the engine's own ALTER TABLE (pg_trickle.internal_ddl, _sync_capture) is not refused for a
        -- schema renamed since, which is not watched; everything else is judged, whoever sets it
        PERFORM pgtrickle._guard_source(v_relid, ARRAY(SELECT jsonb_array_elements_text(v_dropped -> v_relid::text)),
                                        position(' ' || v_relid || ' ' IN v_rewritten) > 0,
                                        pgtrickle._ddl_note('internal_ddl') IS DISTINCT FROM 'on');
    END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION pgtrickle._drop_capture(oid), pgtrickle._guard_source(oid, text[], boolean, boolean) FROM PUBLIC;

-- The event triggers: only a superuser may create one, and they run for every role, superusers
-- included, so they are made only where a superuser owns the pgtrickle schema and everything in
-- it (the routines they run, the tables they write); anywhere else the guard is off, with a notice
-- (docs/CONFIGURATION.md, "Changing a source table"), and triggers made before are dropped.
DO $$
DECLARE
    v_superuser boolean := coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false);
    v_trusted boolean := coalesce((SELECT r.rolsuper FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner WHERE n.nspname = 'pgtrickle'), false)
        AND NOT EXISTS (SELECT 1 FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
                         WHERE p.pronamespace = 'pgtrickle'::regnamespace AND NOT r.rolsuper)
        AND NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
                         WHERE c.relnamespace = 'pgtrickle'::regnamespace AND NOT r.rolsuper);
    v_name text;
BEGIN
    IF NOT (v_superuser AND v_trusted) THEN
        FOR v_name IN SELECT evtname FROM pg_event_trigger
                       WHERE evtname IN ('pg_trickle_drop_tracker', 'pg_trickle_rewrite_tracker', 'pg_trickle_ddl_tracker')
        LOOP
            IF v_superuser THEN
                EXECUTE format('DROP EVENT TRIGGER %I', v_name);
                RAISE WARNING 'pg_trickle: event trigger % dropped: the pgtrickle schema holds objects a superuser does not own', v_name;
            ELSE
                RAISE WARNING 'pg_trickle: event trigger % is left as it is; a superuser''s install checks it', v_name;
            END IF;
        END LOOP;
        IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pg_trickle_ddl_tracker') THEN
            RAISE NOTICE 'pg_trickle: the DDL guard on source tables is off: its event triggers need a superuser installing '
                         'a catalog that superusers own (docs/CONFIGURATION.md, "Changing a source table")';
        END IF;
        RETURN;
    END IF;
    -- any command (c42ca41 made it for ALTER TABLE only): made again
    IF EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pg_trickle_drop_tracker' AND evttags IS NOT NULL) THEN
        DROP EVENT TRIGGER pg_trickle_drop_tracker;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pg_trickle_drop_tracker') THEN
        CREATE EVENT TRIGGER pg_trickle_drop_tracker ON sql_drop EXECUTE FUNCTION pgtrickle._on_sql_drop();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pg_trickle_rewrite_tracker') THEN
        CREATE EVENT TRIGGER pg_trickle_rewrite_tracker ON table_rewrite
            WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION pgtrickle._on_table_rewrite();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pg_trickle_ddl_tracker') THEN
        CREATE EVENT TRIGGER pg_trickle_ddl_tracker ON ddl_command_end
            WHEN TAG IN ('ALTER TABLE', 'ALTER FOREIGN TABLE') EXECUTE FUNCTION pgtrickle._on_ddl_end();
    END IF;
END
$$;
