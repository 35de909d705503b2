-- Catalog version 5: storage shape PARTITIONED, for window functions, DISTINCT ON and set operations
-- (rows identified by content, partition hashes __pgt_part<j> and ordinal; a refresh replaces the
-- rows of the affected partitions).
ALTER TABLE pgtrickle.pgt_stream_tables DROP CONSTRAINT pgt_stream_tables_storage_shape_check;
ALTER TABLE pgtrickle.pgt_stream_tables
    ADD CONSTRAINT pgt_stream_tables_storage_shape_check
        CHECK (storage_shape IN ('MULTISET', 'DISTINCT', 'AGGREGATE', 'PARTITIONED'));
