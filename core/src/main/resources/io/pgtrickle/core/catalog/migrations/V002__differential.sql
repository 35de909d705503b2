-- Catalog version 2: what the differential engine compiles for each stream table.
ALTER TABLE pgtrickle.pgt_stream_tables
    ADD COLUMN storage_shape      text NOT NULL DEFAULT 'MULTISET'
                                  CHECK (storage_shape IN ('MULTISET', 'DISTINCT', 'AGGREGATE')),
    ADD COLUMN diff_apply_sql     text,
    ADD COLUMN unsupported_reason text,
    ADD COLUMN explain_text       text,
    ADD COLUMN explain_json       jsonb,
    ADD COLUMN explain_dot        text;
