-- The last look at each campaign's Master Assets tree: its files (Box file id -> [sha1, size])
-- and the last change known then.
SELECT campaign_id, files, last_change_at
FROM campaign_snapshots
WHERE campaign_id = ANY(%(campaign_ids)s::text[])
