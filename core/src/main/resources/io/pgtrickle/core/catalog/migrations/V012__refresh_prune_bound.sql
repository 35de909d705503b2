-- Catalog version 12: no table changes. The routines of this release changed the result columns
-- or arguments of _refresh (prune_from), _prune_changes and each buffer's prune_<stable> (a lower
-- bound of the xids to prune): an engine of version 11 would fail to install its routines over
-- them, and now refuses a catalog newer than it understands instead.
SELECT 1;
