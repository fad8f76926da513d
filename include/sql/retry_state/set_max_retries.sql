UPDATE campaign_status
SET a1_max_retries = %(max_retries)s, updated_at = now()
WHERE campaign_id = %(campaign_id)s
RETURNING campaign_id
