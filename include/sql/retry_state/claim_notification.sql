-- Claim before sending; a claim that exists already comes back with its sent_at.
INSERT INTO campaign_notifications (campaign_id, kind, channel, episode, attempt, run_id)
VALUES (%(campaign_id)s, %(kind)s, %(channel)s, %(episode)s, %(attempt)s, %(run_id)s)
ON CONFLICT DO NOTHING
