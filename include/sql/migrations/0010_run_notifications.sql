-- A notification of a whole run rather than of a campaign (campaign_id NULL): the poll still
-- going past its deadline ('overdue', setting poll_deadline_minutes), claimed once per run.
ALTER TABLE campaign_notifications
    ALTER COLUMN campaign_id DROP NOT NULL,
    DROP CONSTRAINT campaign_notifications_kind_check,
    ADD CONSTRAINT campaign_notifications_kind_check
        CHECK (kind IN ('warning', 'retry', 'failed', 'reset', 'overdue')),
    ADD CONSTRAINT campaign_notifications_run_kind_check
        CHECK ((campaign_id IS NULL) = (kind = 'overdue'));

CREATE UNIQUE INDEX campaign_notifications_one_per_run_idx
    ON campaign_notifications (kind, channel, run_id) WHERE campaign_id IS NULL;
