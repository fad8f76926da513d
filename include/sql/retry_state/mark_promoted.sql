-- Stamp the campaign's move to %(status)s, which ends any wait for the DAM lock. A repeated stamp
-- (a cleared reset task) matches no row: the promotion it repeats keeps its time and episode.
UPDATE campaign_status
SET status = %(status)s,
    promoted_to_a2_at = now(),
    a1_waiting_for_dam_lock_since = NULL,
    updated_at = now()
WHERE campaign_id = %(campaign_id)s
  AND (status IS DISTINCT FROM %(status)s OR promoted_to_a2_at IS NULL)
RETURNING campaign_id
