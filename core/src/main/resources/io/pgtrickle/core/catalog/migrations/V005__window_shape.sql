-- Catalog version 5: stream tables of window functions (storage shape WINDOW: rows identified by
-- content, partition hashes __pgt_part<j> and ordinal; a refresh replaces affected partitions).
ALTER TABLE pgtrickle.pgt_stream_tables DROP CONSTRAINT pgt_stream_tables_storage_shape_check;
ALTER TABLE pgtrickle.pgt_stream_tables
    ADD CONSTRAINT pgt_stream_tables_storage_shape_check
        CHECK (storage_shape IN ('MULTISET', 'DISTINCT', 'AGGREGATE', 'WINDOW'));
