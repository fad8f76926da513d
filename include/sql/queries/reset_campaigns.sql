-- Reset campaigns: the ones named, and with all_failed every permanently failed one.
-- A reset ends the stuck episode: counters, streak, warning, backoff and failure are cleared.
-- A promotion ends its episode with this too, once the campaign has moved (mark_promoted).
UPDATE campaign_status
SET a1_retry_count = 0,
    a1_last_retry_at = NULL,
    a1_permanently_failed = FALSE,
    a1_failure_reason = NULL,
    a1_consecutive_errors = 0,
    a1_warning_sent_at = NULL,
    a1_episode = a1_episode + 1,
    a1_backoff_polls = 0,
    a1_next_check_at = NULL,
    updated_at = now()
WHERE campaign_id = ANY(%(campaign_ids)s::text[])
   OR (%(all_failed)s AND a1_permanently_failed)
RETURNING campaign_id
