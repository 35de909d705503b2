-- Catalog version 10: the types of the source columns each stream table reads, as
-- pgtrickle._column_types printed them when its query was compiled (column_types, in the order of
-- columns_used), and of the columns each change capture records (captured_types, in the order of
-- captured_columns). The DDL guard (pgtrickle._on_ddl_end, pg_trickle.block_source_ddl) compares
-- them with the columns after an ALTER TABLE: a column a stream table or a capture reads must not
-- be dropped, renamed or given another type under it. Rows of earlier versions are filled in by
-- the install (routines.sql), with the columns' types now, the best evidence of the types then.
ALTER TABLE pgtrickle.pgt_dependencies ADD COLUMN column_types text[];
ALTER TABLE pgtrickle.pgt_change_tracking ADD COLUMN captured_types text[];
