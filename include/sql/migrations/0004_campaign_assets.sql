-- One row per master asset brought from Box into the DAM: a retried import skips what is here.
CREATE TABLE campaign_assets (
    campaign_id  TEXT NOT NULL REFERENCES campaign_status (campaign_id) ON DELETE CASCADE,
    box_file_id  TEXT NOT NULL,
    sha1         TEXT NOT NULL,
    name         TEXT NOT NULL,
    size_bytes   BIGINT,
    dam_asset_id TEXT,
    dam_job_id   TEXT,
    imported_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, box_file_id, sha1)
);
