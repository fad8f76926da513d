-- Write back each campaign's state after its poll; the warning is stamped when first decided.
-- A wait for the DAM lock lasts while the polls decide a reset (the reset task renews or ends it).
UPDATE campaign_status AS cs SET
    a1_retry_count = s.poll_count,
    a1_last_retry_at = CASE WHEN s.poll_count = 0 THEN NULL ELSE now() END,
    a1_consecutive_errors = s.consecutive_errors,
    a1_permanently_failed = s.permanently_failed,
    a1_failure_reason = s.failure_reason,
    a1_warning_sent_at = CASE
        WHEN NOT s.warning_sent THEN NULL
        ELSE coalesce(cs.a1_warning_sent_at, now())
    END,
    a1_episode = s.episode,
    a1_backoff_polls = s.backoff_polls,
    a1_next_check_at = s.next_check_at,
    a1_waiting_for_dam_lock_since = CASE
        WHEN s.action = 'reset' THEN cs.a1_waiting_for_dam_lock_since
    END,
    updated_at = now()
FROM unnest(
    %(campaign_ids)s::text[], %(actions)s::text[], %(poll_counts)s::int[],
    %(consecutive_errors)s::int[], %(permanently_failed)s::boolean[], %(failure_reasons)s::text[],
    %(warning_sent)s::boolean[], %(episodes)s::int[], %(backoff_polls)s::int[],
    %(next_check_ats)s::timestamptz[]
) AS s (campaign_id, action, poll_count, consecutive_errors, permanently_failed, failure_reason,
        warning_sent, episode, backoff_polls, next_check_at)
WHERE cs.campaign_id = s.campaign_id
