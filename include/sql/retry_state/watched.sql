-- What the last listing of each of these campaigns saw (no row: never listed).
SELECT campaign_id, box_folder_id, folder_ids, outcome, episode, listed_at, changed, proving
FROM campaign_watch
WHERE campaign_id = ANY(%(campaign_ids)s::text[])
