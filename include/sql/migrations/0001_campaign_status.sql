-- One row per campaign seen at A1: the seed's columns, with their meaning, plus what the DAG needs.
CREATE TABLE campaign_status (
    campaign_id             TEXT PRIMARY KEY,
    campaign_number         TEXT,
    campaign_name           TEXT,
    status                  TEXT,
    box_folder_id           TEXT,
    master_assets_folder_id TEXT,
    -- Every poll of an unpromoted campaign, empty or errored; cleared when it is promoted or reset.
    a1_retry_count          INTEGER NOT NULL DEFAULT 0 CHECK (a1_retry_count >= 0),
    a1_last_retry_at        TIMESTAMPTZ,
    -- Set only by the third (or the campaign's own limit) consecutive genuine folder error.
    a1_permanently_failed   BOOLEAN NOT NULL DEFAULT FALSE,
    a1_failure_reason       TEXT,
    -- Genuine folder errors in a row; any poll that finds the folder ends the streak.
    a1_consecutive_errors   INTEGER NOT NULL DEFAULT 0 CHECK (a1_consecutive_errors >= 0),
    -- When the one-time "no assets yet" warning of the current episode was decided.
    a1_warning_sent_at      TIMESTAMPTZ,
    -- The campaign's own consecutive-error limit; NULL means the global one.
    a1_max_retries          INTEGER CHECK (a1_max_retries IS NULL OR a1_max_retries >= 1),
    -- A stuck episode ends when the campaign is promoted or reset; notifications are keyed by it.
    a1_episode              INTEGER NOT NULL DEFAULT 1,
    first_seen_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    promoted_to_a2_at       TIMESTAMPTZ,
    updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX campaign_status_failed_idx ON campaign_status (a1_permanently_failed)
    WHERE a1_permanently_failed;
CREATE INDEX campaign_status_status_idx ON campaign_status (status);
CREATE INDEX campaign_status_number_idx ON campaign_status (campaign_number);
