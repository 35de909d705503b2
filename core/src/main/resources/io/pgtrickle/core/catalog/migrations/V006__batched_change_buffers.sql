-- Catalog version 6: change buffers store one row per statement, action and chunk of up to 10,000
-- rows, with one array per captured column (pgtrickle_changes.batches_<stable>); the relation named
-- by buffer_table becomes a view that unnests them into the row layout every reader already uses.
-- The engine converts buffers of the earlier row layout (buffer_store NULL) right after this
-- migration, in the same transaction (ChangeCapture.upgradeBuffers).
ALTER TABLE pgtrickle.pgt_change_tracking
    -- The table the capture triggers write and the refresh prunes.
    ADD COLUMN buffer_store text;
