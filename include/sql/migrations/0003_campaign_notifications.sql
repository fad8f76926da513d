-- One row per notification: claimed before it is sent, stamped once it was sent.
CREATE TABLE campaign_notifications (
    id          BIGSERIAL PRIMARY KEY,
    campaign_id TEXT NOT NULL REFERENCES campaign_status (campaign_id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('warning', 'retry', 'failed')),
    channel     TEXT NOT NULL DEFAULT 'email',
    episode     INTEGER NOT NULL,
    attempt     INTEGER NOT NULL DEFAULT 0,
    run_id      TEXT NOT NULL,
    claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at     TIMESTAMPTZ,
    UNIQUE (campaign_id, kind, channel, run_id)
);

-- However the rules are changed later, one warning per campaign, episode and channel.
CREATE UNIQUE INDEX campaign_notifications_one_warning_idx
    ON campaign_notifications (campaign_id, episode, channel) WHERE kind = 'warning';
