-- Keep a run's read of the change feed; a read kept already (the task ran again) stays as it is.
-- Reads older than Box keeps events are dropped.
WITH pruned AS (
    DELETE FROM box_event_reads WHERE read_at < now() - interval '14 days'
)
INSERT INTO box_event_reads (
    run_id, stream_key, from_position, to_position, full_listing, changed_ids, event_ids,
    event_count
)
VALUES (
    %(run_id)s, %(stream_key)s, %(from_position)s, %(to_position)s, %(full_listing)s,
    %(changed_ids)s::text[], %(event_ids)s::text[], %(event_count)s
)
ON CONFLICT (run_id, stream_key) DO NOTHING
