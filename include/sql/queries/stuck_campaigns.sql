-- The weekly digest: campaigns waiting at A1 longer than %(days)s days (since first seen) and
-- every permanently failed one (since it failed), longest stuck first within each kind.
SELECT kind, campaign_id, campaign_number, campaign_name, since,
       floor(extract(epoch FROM now() - since))::bigint AS stuck_seconds,
       reason
FROM (
    SELECT 'waiting' AS kind, campaign_id, campaign_number, campaign_name,
           first_seen_at AS since, NULL::text AS reason
    FROM campaign_status
    WHERE status = 'A1'
      AND promoted_to_a2_at IS NULL
      AND NOT a1_permanently_failed
      AND first_seen_at <= now() - make_interval(days => %(days)s)
    UNION ALL
    SELECT 'failed', campaign_id, campaign_number, campaign_name,
           coalesce(a1_last_retry_at, updated_at), a1_failure_reason
    FROM campaign_status
    WHERE a1_permanently_failed
) stuck
ORDER BY kind DESC, since, campaign_id
