"""The Box request ceiling, shared by every task and run through the tracking database."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from campaigns import sql

# Slots taken from the database at once: a second's worth, one statement for up to that many
# requests. Those a hook leaves unused, or finds past, are lost to the rate.
BLOCK_SECONDS = 1.0


class SharedRate:
    """Spaces the requests of one Box connection, from any task, at most ``per_minute`` a minute.

    Requests take their start slots from the tracking database (a block at a time, on a
    connection kept by this object) and wait for them: a task alone may use the whole rate.
    """

    def __init__(self, rate_key: str, per_minute: float, postgres_conn_id: str = "tracking_db"):
        self.rate_key = rate_key
        self.interval = 60.0 / per_minute
        self.postgres_conn_id = postgres_conn_id
        self._conn: Any = None
        self._slots: deque[tuple[datetime, float]] = deque()
        self._lock = threading.Lock()

    def take(self) -> datetime:
        """Wait for the next slot of the rate; the database's time of it."""
        with self._lock:
            # A slot more than an interval past would let a burst through: dropped.
            while self._slots and self._slots[0][1] < time.monotonic() - self.interval:
                self._slots.popleft()
            if not self._slots:
                self._reserve()
            slot_at, due = self._slots.popleft()
        time.sleep(max(due - time.monotonic(), 0.0))
        return slot_at

    def _reserve(self) -> None:
        """Take the next block of slots, each with when it is due on this machine's clock."""
        if self._conn is None or self._conn.closed:
            from campaigns.hooks.retry_state import RetryStateHook

            self._conn = RetryStateHook(postgres_conn_id=self.postgres_conn_id).get_conn()
            self._conn.autocommit = True
        count = max(1, int(BLOCK_SECONDS / self.interval))
        params = {"rate_key": self.rate_key, "interval": self.interval, "count": count}
        first_at, now = self._conn.execute(sql.load("retry_state/take_box_slot"), params).fetchone()
        here = time.monotonic()
        for n in range(count):
            slot_at = first_at + timedelta(seconds=n * self.interval)
            self._slots.append((slot_at, here + (slot_at - now).total_seconds()))

    def close(self) -> None:
        """Close the connection to the tracking database."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
