-- Campaigns one genuine folder error away from permanent failure (their own limit, or the global).
SELECT campaign_id, campaign_number, campaign_name, a1_retry_count, a1_consecutive_errors,
       coalesce(a1_max_retries, %(max_retries)s) AS error_limit,
       a1_failure_reason, a1_last_retry_at
FROM campaign_status
WHERE status = 'A1'
  AND NOT a1_permanently_failed
  AND a1_consecutive_errors >= 1
  AND a1_consecutive_errors >= coalesce(a1_max_retries, %(max_retries)s) - 1
ORDER BY a1_consecutive_errors DESC, a1_last_retry_at DESC NULLS LAST
