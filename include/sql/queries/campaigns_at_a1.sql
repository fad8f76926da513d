-- The campaigns page: the campaigns at A1 with their retry state (since when each waits for the
-- DAM lock, if it does; its files and last change, if they are still settling; the changes of its
-- Box folders that the change feed missed and a reconciliation found, and whether it is listed
-- every poll for that), failed first, then by errors in a row and polls. Filters: only
-- permanently failed, only warned, a text found (ignoring case) in the DAM id, campaign number or
-- name; "matching" counts every row the filters let through.
SELECT cs.campaign_id, campaign_number, campaign_name,
       a1_retry_count, a1_consecutive_errors,
       coalesce(a1_max_retries, %(max_retries)s) AS error_limit,
       a1_last_retry_at, a1_warning_sent_at, a1_permanently_failed, a1_failure_reason,
       a1_waiting_for_dam_lock_since,
       sn.file_count AS settling_files, sn.last_change_at AS settling_last_change_at,
       coalesce(w.missed_events, 0) AS missed_events, coalesce(w.proving, FALSE) AS proving,
       count(*) OVER () AS matching
FROM campaign_status AS cs
LEFT JOIN campaign_snapshots AS sn
    ON sn.campaign_id = cs.campaign_id AND NOT sn.settled AND sn.file_count > 0
LEFT JOIN campaign_watch AS w ON w.campaign_id = cs.campaign_id
WHERE status = 'A1'
  AND (NOT %(failed)s OR a1_permanently_failed)
  AND (NOT %(warned)s OR a1_warning_sent_at IS NOT NULL)
  AND (%(search)s::text IS NULL
       OR strpos(lower(concat_ws(' ', cs.campaign_id, campaign_number, campaign_name)),
                 lower(%(search)s::text)) > 0)
ORDER BY a1_permanently_failed DESC, a1_consecutive_errors DESC, a1_retry_count DESC,
         campaign_number, cs.campaign_id
LIMIT %(limit)s
