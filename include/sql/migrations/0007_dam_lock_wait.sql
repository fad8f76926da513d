-- A campaign whose assets were found while someone held its folder's lock in the DAM: it stays at
-- A1, its imports kept in campaign_assets, and the next poll tries the move again. Since when it
-- waits (NULL: not waiting); cleared by its promotion or by a poll that decides something else.
ALTER TABLE campaign_status ADD COLUMN a1_waiting_for_dam_lock_since TIMESTAMPTZ;
