-- Each campaign's latest poll: what it found, what was done, and the emails sent about it so far.
SELECT cs.campaign_number, cs.campaign_name, cs.status,
       p.outcome, p.action, p.poll_count, p.polled_at,
       (SELECT count(*) FROM campaign_notifications n
        WHERE n.campaign_id = cs.campaign_id AND n.sent_at IS NOT NULL) AS emails_sent,
       (SELECT count(*) FROM campaign_assets a WHERE a.campaign_id = cs.campaign_id) AS assets_imported
FROM campaign_status cs
LEFT JOIN LATERAL (
    SELECT outcome, action, poll_count, polled_at
    FROM campaign_polls
    WHERE campaign_id = cs.campaign_id
    ORDER BY polled_at DESC
    LIMIT 1
) p ON TRUE
ORDER BY cs.campaign_number, cs.campaign_id
