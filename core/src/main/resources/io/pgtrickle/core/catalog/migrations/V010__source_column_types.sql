-- Catalog version 10: the types of the source columns each stream table reads, as
-- pgtrickle._column_types records them, when its query was compiled (column_types, in the order
-- of columns_used). The DDL
-- guard (pgtrickle._on_ddl_end, pg_trickle.block_source_ddl) compares them with the columns after
-- an ALTER TABLE: a column a stream table reads must not be dropped, renamed or given another type
-- under it. Stream tables created before are filled in by the install (routines.sql), with their
-- columns' types now, the best evidence of the types then.
ALTER TABLE pgtrickle.pgt_dependencies ADD COLUMN column_types text[];
