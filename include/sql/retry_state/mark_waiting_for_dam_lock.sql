-- Someone holds the campaign folder's lock in the DAM: waiting since the first poll that met it.
UPDATE campaign_status
SET a1_waiting_for_dam_lock_since = coalesce(a1_waiting_for_dam_lock_since, now()),
    updated_at = now()
WHERE campaign_id = %(campaign_id)s
