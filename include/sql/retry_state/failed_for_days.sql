-- Permanently failed campaigns whose failing poll is at least %(days)s days old, locked to reset.
SELECT campaign_id
FROM campaign_status
WHERE a1_permanently_failed
  AND a1_last_retry_at <= now() - make_interval(days => %(days)s)
ORDER BY campaign_id
FOR UPDATE
