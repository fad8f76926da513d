-- Campaigns recorded at %(status)s that a complete DAM search no longer returns: moved on in the
-- DAM by hand (a wait for the DAM lock ends with it). They leave the dashboards; the search
-- finding them again puts them back.
UPDATE campaign_status
SET status = %(left_status)s, a1_waiting_for_dam_lock_since = NULL, updated_at = now()
WHERE status = %(status)s
  AND campaign_id <> ALL(%(seen_ids)s::text[])
RETURNING campaign_id, campaign_number
