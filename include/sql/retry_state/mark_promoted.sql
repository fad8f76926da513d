UPDATE campaign_status
SET status = %(status)s, promoted_to_a2_at = now(), updated_at = now()
WHERE campaign_id = %(campaign_id)s
