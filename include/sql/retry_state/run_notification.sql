SELECT id, campaign_id, kind, channel, episode, attempt, run_id, claimed_at, sent_at
FROM campaign_notifications
WHERE campaign_id IS NULL AND kind = %(kind)s AND channel = %(channel)s AND run_id = %(run_id)s
