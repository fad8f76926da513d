-- Current retry status of the campaigns at A1. Unlike the seed's version, "Permanently Failed"
-- is the flag itself: an empty folder raises a1_retry_count without ever failing a campaign,
-- and the attempts are the consecutive genuine folder errors. A campaign whose assets were found
-- while someone held its folder's lock in the DAM is "Waiting For DAM Lock", not for assets.
-- "Box Events Missed": campaigns with a change of their Box folders that the change feed never
-- announced (found by a reconciliation).
SELECT
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed AND a1_consecutive_errors = 0
                       AND a1_retry_count = 0
                       AND a1_waiting_for_dam_lock_since IS NULL)   AS "No Issues",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed AND a1_consecutive_errors = 0
                       AND a1_retry_count > 0
                       AND a1_waiting_for_dam_lock_since IS NULL)   AS "Waiting For Assets",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_waiting_for_dam_lock_since IS NOT NULL) AS "Waiting For DAM Lock",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_warning_sent_at IS NOT NULL)          AS "Warned",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_consecutive_errors = 1)               AS "Attempt 1",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_consecutive_errors = 2)               AS "Attempt 2",
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_consecutive_errors >= 3)              AS "Attempt 3+",
    COUNT(*) FILTER (WHERE a1_permanently_failed)                   AS "Permanently Failed",
    COUNT(*) FILTER (WHERE w.missed_events > 0)                     AS "Box Events Missed"
FROM campaign_status AS cs
LEFT JOIN campaign_watch AS w ON w.campaign_id = cs.campaign_id
WHERE status = 'A1'
