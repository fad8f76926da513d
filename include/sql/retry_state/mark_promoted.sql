-- A repeated stamp (a cleared reset task) keeps the time of the promotion it repeats.
UPDATE campaign_status
SET promoted_to_a2_at = CASE
        WHEN status = %(status)s AND promoted_to_a2_at IS NOT NULL THEN promoted_to_a2_at
        ELSE now()
    END,
    status = %(status)s,
    updated_at = now()
WHERE campaign_id = %(campaign_id)s
