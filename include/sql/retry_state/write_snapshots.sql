-- Keep each campaign's look at its Master Assets tree for the next poll to compare with.
INSERT INTO campaign_snapshots (campaign_id, files, file_count, last_change_at, settled, looked_at)
SELECT s.campaign_id, s.files, (SELECT count(*) FROM jsonb_object_keys(s.files)),
       s.last_change_at, s.settled, %(looked_at)s
FROM unnest(
    %(campaign_ids)s::text[], %(files)s::jsonb[], %(last_change_ats)s::timestamptz[],
    %(settled)s::boolean[]
) AS s (campaign_id, files, last_change_at, settled)
ON CONFLICT (campaign_id) DO UPDATE SET
    files = excluded.files,
    file_count = excluded.file_count,
    last_change_at = excluded.last_change_at,
    settled = excluded.settled,
    looked_at = excluded.looked_at
