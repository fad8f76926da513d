-- Advance the stream to a run's read, only from where that read started: a run cleared after a
-- later one advanced it never moves it back. Returns a row when it advanced.
INSERT INTO box_event_streams AS s (stream_key, position, saved_at)
VALUES (%(stream_key)s, %(to_position)s, %(read_at)s)
ON CONFLICT (stream_key) DO UPDATE
SET position = excluded.position, saved_at = excluded.saved_at
WHERE s.position IS NOT DISTINCT FROM %(from_position)s
RETURNING stream_key
