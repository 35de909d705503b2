-- Catalog version 3: the SQL API for roles other than the catalog's owner.
--
-- Everyone may read the catalog (as everyone may read pg_class) and file requests for the daemon;
-- row-level security lets a role see and file only its own requests. Everything that writes the
-- catalog goes through routines that check the caller's ownership (routines.sql).

-- A source reached only through a view is read with the view owner's rights, not the stream
-- table owner's: the privilege check before every refresh skips it.
ALTER TABLE pgtrickle.pgt_dependencies ADD COLUMN via_view_only boolean NOT NULL DEFAULT false;

ALTER TABLE pgtrickle.pgt_requests DROP CONSTRAINT pgt_requests_status_check;
ALTER TABLE pgtrickle.pgt_requests
    ADD CONSTRAINT pgt_requests_status_check CHECK (status IN ('PENDING', 'RUNNING', 'DONE', 'FAILED', 'CANCELLED')),
    ADD COLUMN notices text[],
    ADD COLUMN started_at timestamptz;

GRANT USAGE ON SCHEMA pgtrickle TO PUBLIC;
GRANT SELECT ON pgtrickle.pgt_stream_tables, pgtrickle.pgt_dependencies, pgtrickle.pgt_refresh_history,
                pgtrickle.pgt_change_tracking, pgtrickle.pgt_source_frontiers, pgtrickle.pgt_schema_version
    TO PUBLIC;

GRANT SELECT, INSERT ON pgtrickle.pgt_requests TO PUBLIC;
GRANT UPDATE (status, finished_at) ON pgtrickle.pgt_requests TO PUBLIC;
GRANT USAGE ON SEQUENCE pgtrickle.pgt_requests_request_id_seq TO PUBLIC;
ALTER TABLE pgtrickle.pgt_requests ENABLE ROW LEVEL SECURITY;
-- The daemon connects as the catalog's owner (or a superuser) and so is not subject to these.
CREATE POLICY pgt_requests_read ON pgtrickle.pgt_requests FOR SELECT USING (requested_by = current_user);
CREATE POLICY pgt_requests_file ON pgtrickle.pgt_requests FOR INSERT
    WITH CHECK (requested_by = current_user AND status = 'PENDING' AND result IS NULL
                AND kind IN ('create', 'create_or_replace', 'create_if_not_exists', 'alter_query'));
-- A caller that gives up waiting withdraws its request, if the daemon has not started on it.
CREATE POLICY pgt_requests_withdraw ON pgtrickle.pgt_requests FOR UPDATE
    USING (requested_by = current_user AND status = 'PENDING') WITH CHECK (status = 'CANCELLED');
