-- Keep what this poll's listing of each campaign saw, and its missed-event count and proving.
INSERT INTO campaign_watch (
    campaign_id, box_folder_id, folder_ids, outcome, episode, listed_at, changed, missed_events,
    last_missed_at, proving
)
SELECT w.campaign_id, w.box_folder_id, w.folder_ids, w.outcome, w.episode, %(listed_at)s, FALSE,
       w.missed::int, CASE WHEN w.missed THEN %(listed_at)s END, w.proving
FROM jsonb_to_recordset(%(listings)s::jsonb) AS w (
    campaign_id TEXT, box_folder_id TEXT, folder_ids TEXT[], outcome TEXT, episode INTEGER,
    missed BOOLEAN, proving BOOLEAN
)
ON CONFLICT (campaign_id) DO UPDATE SET
    box_folder_id = excluded.box_folder_id,
    folder_ids = excluded.folder_ids,
    outcome = excluded.outcome,
    episode = excluded.episode,
    listed_at = excluded.listed_at,
    changed = FALSE,
    missed_events = campaign_watch.missed_events + excluded.missed_events,
    last_missed_at = coalesce(excluded.last_missed_at, campaign_watch.last_missed_at),
    proving = excluded.proving
