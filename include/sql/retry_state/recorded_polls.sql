SELECT campaign_id, outcome, reason, action, poll_count, consecutive_errors, attempt, episode
FROM campaign_polls
WHERE run_id = %(run_id)s AND campaign_id = ANY(%(campaign_ids)s::text[])
