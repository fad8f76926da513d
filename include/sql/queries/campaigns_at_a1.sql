-- The campaigns page: the campaigns at A1 with their retry state (and since when each waits for
-- the DAM lock, if it does), failed first, then by errors in a row and polls. Filters: only
-- permanently failed, only warned, a text found (ignoring case) in the DAM id, campaign number or
-- name; "matching" counts every row the filters let through.
SELECT campaign_id, campaign_number, campaign_name,
       a1_retry_count, a1_consecutive_errors,
       coalesce(a1_max_retries, %(max_retries)s) AS error_limit,
       a1_last_retry_at, a1_warning_sent_at, a1_permanently_failed, a1_failure_reason,
       a1_waiting_for_dam_lock_since,
       count(*) OVER () AS matching
FROM campaign_status
WHERE status = 'A1'
  AND (NOT %(failed)s OR a1_permanently_failed)
  AND (NOT %(warned)s OR a1_warning_sent_at IS NOT NULL)
  AND (%(search)s::text IS NULL
       OR strpos(lower(concat_ws(' ', campaign_id, campaign_number, campaign_name)),
                 lower(%(search)s::text)) > 0)
ORDER BY a1_permanently_failed DESC, a1_consecutive_errors DESC, a1_retry_count DESC,
         campaign_number, campaign_id
LIMIT %(limit)s
