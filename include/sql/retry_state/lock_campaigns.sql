-- Serialises two recorders of the same campaigns: the second one then sees the first one's polls.
SELECT campaign_id
FROM campaign_status
WHERE campaign_id = ANY(%(campaign_ids)s::text[])
ORDER BY campaign_id
FOR UPDATE
