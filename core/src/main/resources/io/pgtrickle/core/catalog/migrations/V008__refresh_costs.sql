-- Catalog version 8: the cost guard's evidence. A differential refresh records its duration and
-- change rows with its sequence number among the stream table's refreshes (refresh_seq counts the
-- recorded refreshes that found changes); the newest 16 are kept, newest first. The next refresh
-- reads them from the row it locks anyway, instead of from the history, whose rows of one stream
-- table lie on as many pages as there are rows. last_full_source_rows is the sources' size
-- (pg_class.reltuples) at the last FULL refresh, to scale its time to the sources' size now.
CREATE TYPE pgtrickle.refresh_cost AS (refresh_seq bigint, ms double precision, change_rows bigint);

ALTER TABLE pgtrickle.pgt_stream_tables
    ADD COLUMN refresh_seq bigint NOT NULL DEFAULT 0,
    ADD COLUMN recent_diff_costs pgtrickle.refresh_cost[] NOT NULL DEFAULT '{}',
    ADD COLUMN last_full_source_rows double precision;
