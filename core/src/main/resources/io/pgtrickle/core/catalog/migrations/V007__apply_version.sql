-- Catalog version 7: the data step of a refresh embeds the compiled SQL in its function
-- (pgtrickle_changes.apply_<id>), so PostgreSQL keeps the statements parsed and planned for the
-- session. apply_version names the SQL a function was built from; a refresh rebuilds the function
-- when it differs. Generated, so every path that rewrites the SQL changes it.
ALTER TABLE pgtrickle.pgt_stream_tables
    ADD COLUMN apply_version text GENERATED ALWAYS AS
        (md5(coalesce(diff_apply_sql, '') || '|' || full_apply_sql)) STORED;
