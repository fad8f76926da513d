-- View all permanently failed campaigns.
SELECT campaign_id, campaign_number, campaign_name,
       a1_retry_count, a1_consecutive_errors, a1_last_retry_at, a1_failure_reason
FROM campaign_status
WHERE a1_permanently_failed = TRUE
ORDER BY a1_last_retry_at DESC NULLS LAST, campaign_id
