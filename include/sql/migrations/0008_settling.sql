-- Settled uploads: each campaign's last look at its Master Assets tree, so that the next poll can
-- tell whether it changed. files maps each Box file id to [sha1, size]; last_change_at is the
-- last change known then (NULL: never seen changing); settled is that look's verdict.
CREATE TABLE campaign_snapshots (
    campaign_id    TEXT PRIMARY KEY REFERENCES campaign_status (campaign_id) ON DELETE CASCADE,
    files          JSONB NOT NULL,
    file_count     INTEGER NOT NULL CHECK (file_count >= 0),
    last_change_at TIMESTAMPTZ,
    settled        BOOLEAN NOT NULL,
    looked_at      TIMESTAMPTZ NOT NULL
);

-- A poll that finds files still arriving.
ALTER TABLE campaign_polls
    DROP CONSTRAINT campaign_polls_outcome_check,
    ADD CONSTRAINT campaign_polls_outcome_check
        CHECK (outcome IN ('assets', 'empty', 'folder_error', 'settling'));
