-- Catalog version 11: the types of the columns each change capture records (captured_types, in
-- the order of captured_columns, as pgtrickle._column_types records them). The DDL guard compares
-- them with the source after an ALTER TABLE: the capture trigger writes each column into an array
-- of the type it was installed with. Captures of earlier versions are filled in by the install
-- (routines.sql) with their columns' types now. IF NOT EXISTS: a database briefly installed at a
-- version 10 of main that already had the column.
ALTER TABLE pgtrickle.pgt_change_tracking ADD COLUMN IF NOT EXISTS captured_types text[];
