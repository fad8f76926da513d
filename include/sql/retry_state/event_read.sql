-- A run's read of the change feed, as it was kept.
SELECT run_id, stream_key, from_position, to_position, full_listing, changed_ids, event_ids,
       event_count, read_at
FROM box_event_reads
WHERE run_id = %(run_id)s AND stream_key = %(stream_key)s
