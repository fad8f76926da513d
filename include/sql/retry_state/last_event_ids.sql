-- The events of the stream's latest read by another run: Box may deliver them again.
SELECT event_ids
FROM box_event_reads
WHERE stream_key = %(stream_key)s AND run_id <> %(run_id)s
ORDER BY read_at DESC
LIMIT 1
