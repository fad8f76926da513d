-- Where the pipeline stands in a Box connection's change feed (no row: nowhere yet).
SELECT position, saved_at
FROM box_event_streams
WHERE stream_key = %(stream_key)s
