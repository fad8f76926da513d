"""The Box request ceiling, shared by every task and run through the tracking database."""

from __future__ import annotations

import threading
import time
from datetime import datetime
from typing import Any

from campaigns import sql


class SharedRate:
    """Spaces the requests of one Box connection, from any task, at most ``per_minute`` a minute.

    Each request takes the next slot from the tracking database (one statement on a connection
    kept by this object) and waits for it: a task alone may use the whole rate.
    """

    def __init__(self, rate_key: str, per_minute: float, postgres_conn_id: str = "tracking_db"):
        self.rate_key = rate_key
        self.interval = 60.0 / per_minute
        self.postgres_conn_id = postgres_conn_id
        self._conn: Any = None
        self._lock = threading.Lock()

    def take(self) -> datetime:
        """Take the next slot; the database's time of it."""
        with self._lock:
            if self._conn is None or self._conn.closed:
                from campaigns.hooks.retry_state import RetryStateHook

                self._conn = RetryStateHook(postgres_conn_id=self.postgres_conn_id).get_conn()
                self._conn.autocommit = True
            params = {"rate_key": self.rate_key, "interval": self.interval}
            slot_at, now = self._conn.execute(
                sql.load("retry_state/take_box_slot"), params
            ).fetchone()
        time.sleep(max((slot_at - now).total_seconds(), 0.0))
        return slot_at

    def close(self) -> None:
        """Close the connection to the tracking database."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
