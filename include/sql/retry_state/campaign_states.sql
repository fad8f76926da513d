SELECT campaign_id, campaign_number, campaign_name, status, box_folder_id,
       master_assets_folder_id, a1_retry_count, a1_last_retry_at, a1_permanently_failed,
       a1_failure_reason, a1_consecutive_errors, a1_warning_sent_at, a1_max_retries, a1_episode,
       a1_backoff_polls, a1_next_check_at, a1_waiting_for_dam_lock_since, first_seen_at,
       promoted_to_a2_at, updated_at
FROM campaign_status
WHERE campaign_id = ANY(%(campaign_ids)s::text[])
