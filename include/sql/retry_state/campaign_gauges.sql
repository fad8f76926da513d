-- The metrics' campaign states at %(status)s (campaigns.metrics): a campaign's last Box listing
-- (campaign_watch) tells waiting (empty, or never listed) from settling; the oldest's age counts
-- from when the pipeline first saw it, as the weekly digest does.
SELECT
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed AND a1_consecutive_errors = 0
                       AND coalesce(w.outcome, 'empty') = 'empty')      AS waiting,
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND w.outcome = 'settling')                     AS settling,
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_warning_sent_at IS NOT NULL)             AS warned,
    COUNT(*) FILTER (WHERE NOT a1_permanently_failed
                       AND a1_consecutive_errors > 0)                  AS error_streak,
    COUNT(*) FILTER (WHERE a1_permanently_failed)                      AS failed,
    coalesce(floor(extract(epoch FROM now() - min(first_seen_at)
                           FILTER (WHERE NOT a1_permanently_failed))), 0)::bigint
                                                                       AS oldest_at_a1_seconds
FROM campaign_status AS cs
LEFT JOIN campaign_watch AS w ON w.campaign_id = cs.campaign_id
WHERE status = %(status)s
