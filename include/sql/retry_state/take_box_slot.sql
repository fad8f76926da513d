-- Take the next start slot of a Box connection's request rate: now if the last slot is past,
-- else one interval after it. Returns the slot and the server's time, to wait until the one.
INSERT INTO box_request_slots AS s (rate_key, next_at)
VALUES (%(rate_key)s, clock_timestamp() + make_interval(secs => %(interval)s))
ON CONFLICT (rate_key) DO UPDATE
SET next_at = greatest(s.next_at, clock_timestamp()) + make_interval(secs => %(interval)s)
RETURNING next_at - make_interval(secs => %(interval)s) AS slot_at, clock_timestamp() AS now
