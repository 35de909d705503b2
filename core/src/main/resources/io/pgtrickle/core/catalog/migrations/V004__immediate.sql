-- Catalog version 4: IMMEDIATE mode (maintenance inside the writing transaction).
ALTER TABLE pgtrickle.pgt_stream_tables
    -- The differential SQL over the writing session's transition rows (pg_temp.pgt_ivm_<id>_<relid>),
    -- compiled for every stream table DIFFERENTIAL can maintain, so alter can switch to IMMEDIATE.
    ADD COLUMN ivm_apply_sql       text,
    -- ROW: writers' own row locks on the single keyed source suffice; EXCLUSIVE: writers of any
    -- source serialise on the catalog row of the stream table (ivm_lock_reason says why).
    ADD COLUMN ivm_lock_mode       text CHECK (ivm_lock_mode IN ('ROW', 'EXCLUSIVE')),
    ADD COLUMN ivm_lock_reason     text,
    -- Statements maintained under the EXCLUSIVE lock, for the daemon's metrics.
    ADD COLUMN ivm_exclusive_count bigint NOT NULL DEFAULT 0;
