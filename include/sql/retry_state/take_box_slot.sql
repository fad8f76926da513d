-- Take the next %(count)s start slots of a Box connection's request rate, one interval apart:
-- from now if the last slot taken is past, else from it. Returns the first slot and the
-- server's time, to wait from the one until the other.
INSERT INTO box_request_slots AS s (rate_key, next_at)
VALUES (%(rate_key)s, clock_timestamp() + make_interval(secs => %(count)s * %(interval)s))
ON CONFLICT (rate_key) DO UPDATE
SET next_at = greatest(s.next_at, clock_timestamp())
    + make_interval(secs => %(count)s * %(interval)s)
RETURNING next_at - make_interval(secs => %(count)s * %(interval)s) AS first_at,
          clock_timestamp() AS now
