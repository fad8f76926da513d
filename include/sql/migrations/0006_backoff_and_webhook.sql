-- The backoff of warned campaigns whose folder stays empty (setting empty_backoff_after_warning):
-- the polls to wait after the last check, and when the campaign is due again (NULL: every poll).
ALTER TABLE campaign_status
    ADD COLUMN a1_backoff_polls INTEGER NOT NULL DEFAULT 0 CHECK (a1_backoff_polls >= 0),
    ADD COLUMN a1_next_check_at TIMESTAMPTZ;

-- The webhook channel (setting webhook_conn_id) also announces promotions ('reset').
ALTER TABLE campaign_notifications
    DROP CONSTRAINT campaign_notifications_kind_check,
    ADD CONSTRAINT campaign_notifications_kind_check
        CHECK (kind IN ('warning', 'retry', 'failed', 'reset')),
    ADD CONSTRAINT campaign_notifications_channel_check CHECK (channel IN ('email', 'webhook'));
