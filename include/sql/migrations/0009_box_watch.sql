-- Watching Box's change feed instead of listing every campaign at every poll.
-- campaign_watch: what the last listing of a campaign's folders saw, so that a campaign whose
-- folders no event touched keeps that outcome. folder_ids are its campaign folder, Master Assets
-- folder and every subfolder under it; episode is the campaign's episode at that listing (a reset
-- or promotion starts a new one, which lists it again). changed: an event touched its folders
-- after that listing and it has not been listed since (it was not in that poll). missed_events counts the changes a
-- reconciliation found that the feed never announced; while proving, it is listed every poll
-- until the feed announces a change to it again.
CREATE TABLE campaign_watch (
    campaign_id    TEXT PRIMARY KEY REFERENCES campaign_status (campaign_id) ON DELETE CASCADE,
    box_folder_id  TEXT,
    folder_ids     TEXT[] NOT NULL DEFAULT '{}',
    outcome        TEXT CHECK (outcome IN ('assets', 'empty', 'folder_error', 'settling')),
    episode        INTEGER NOT NULL,
    listed_at      TIMESTAMPTZ NOT NULL,
    changed        BOOLEAN NOT NULL DEFAULT FALSE,
    missed_events  INTEGER NOT NULL DEFAULT 0 CHECK (missed_events >= 0),
    last_missed_at TIMESTAMPTZ,
    proving        BOOLEAN NOT NULL DEFAULT FALSE
);
-- An event is mapped to its campaigns by the folders it touches.
CREATE INDEX campaign_watch_folder_ids ON campaign_watch USING GIN (folder_ids);

-- Where the pipeline stands in Box's change feed, per Box connection and endpoint.
CREATE TABLE box_event_streams (
    stream_key TEXT PRIMARY KEY,
    position   TEXT NOT NULL,
    saved_at   TIMESTAMPTZ NOT NULL
);

-- Each run's read of the feed, kept so that a task run again uses the same events; the stream
-- advances to to_position once the run's decisions are recorded. full_listing: why every
-- campaign was listed (no usable position), NULL when the feed was read. changed_ids: the
-- campaigns the events touched; event_ids: to drop duplicates the next read delivers again.
CREATE TABLE box_event_reads (
    run_id        TEXT NOT NULL,
    stream_key    TEXT NOT NULL,
    from_position TEXT,
    to_position   TEXT NOT NULL,
    full_listing  TEXT,
    changed_ids   TEXT[] NOT NULL,
    event_ids     TEXT[] NOT NULL,
    event_count   INTEGER NOT NULL,
    read_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, stream_key)
);

-- The Box request ceiling shared by every task and run: when the next request of a Box
-- connection may start. Each request takes the next slot, one interval after the last.
CREATE TABLE box_request_slots (
    rate_key TEXT PRIMARY KEY,
    next_at  TIMESTAMPTZ NOT NULL
);
