-- One row per (campaign, DAG run): the poll is counted once however often its task runs.
CREATE TABLE campaign_polls (
    campaign_id        TEXT NOT NULL REFERENCES campaign_status (campaign_id) ON DELETE CASCADE,
    run_id             TEXT NOT NULL,
    polled_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    outcome            TEXT NOT NULL CHECK (outcome IN ('assets', 'empty', 'folder_error')),
    reason             TEXT,
    action             TEXT NOT NULL CHECK (action IN ('skip', 'warn', 'retry', 'fail', 'reset')),
    poll_count         INTEGER NOT NULL,
    consecutive_errors INTEGER NOT NULL,
    attempt            INTEGER,
    episode            INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, run_id)
);

CREATE INDEX campaign_polls_run_idx ON campaign_polls (run_id);
