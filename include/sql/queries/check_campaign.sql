-- Check one campaign's retry status (by DAM id or campaign number).
SELECT campaign_id, campaign_number, campaign_name, status,
       a1_retry_count, a1_last_retry_at,
       a1_permanently_failed, a1_failure_reason,
       a1_consecutive_errors, a1_warning_sent_at, a1_max_retries,
       first_seen_at, promoted_to_a2_at
FROM campaign_status
WHERE campaign_id = %(campaign)s OR campaign_number = %(campaign)s
ORDER BY campaign_id
