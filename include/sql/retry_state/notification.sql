SELECT id, campaign_id, kind, channel, episode, attempt, run_id, claimed_at, sent_at
FROM campaign_notifications
WHERE campaign_id = %(campaign_id)s AND channel = %(channel)s AND kind = %(kind)s
  AND (run_id = %(run_id)s OR (kind = 'warning' AND episode = %(episode)s))
ORDER BY id
LIMIT 1
