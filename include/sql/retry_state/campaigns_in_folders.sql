-- The campaigns whose recorded folders include any of these Box folder ids.
SELECT campaign_id
FROM campaign_watch
WHERE folder_ids && %(folder_ids)s::text[]
ORDER BY campaign_id
