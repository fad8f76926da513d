INSERT INTO campaign_polls
    (campaign_id, run_id, outcome, reason, action, poll_count, consecutive_errors, attempt, episode)
SELECT p.campaign_id, %(run_id)s, p.outcome, p.reason, p.action, p.poll_count,
       p.consecutive_errors, p.attempt, p.episode
FROM unnest(
    %(campaign_ids)s::text[], %(outcomes)s::text[], %(reasons)s::text[], %(actions)s::text[],
    %(poll_counts)s::int[], %(consecutive_errors)s::int[], %(attempts)s::int[], %(episodes)s::int[]
) AS p (campaign_id, outcome, reason, action, poll_count, consecutive_errors, attempt, episode)
ON CONFLICT (campaign_id, run_id) DO NOTHING
