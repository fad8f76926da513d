"""Box's change feed for the sandbox: the log of changes to its tree, read by stream position.

The position after the i-th event ever recorded (0-based) is ``base + i + 1``; a read from a
position returns the events after it. `Delivery` makes the liberties Box takes with the feed
(short chunks, duplicates, disorder, missed events) happen on demand, to test a consumer.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

from fastapi import APIRouter
from pydantic import BaseModel, Field

from sandbox.faults import CONTROL_PREFIX


class Delivery(BaseModel):
    """How reads deliver the log; the defaults deliver it as it is."""

    # At most this many entries per answer, whatever the limit.
    max_chunk: int | None = Field(default=None, ge=1)
    # A read that has new events first gives again the event just before its position.
    repeat: bool = False
    # Each answer's entries in reverse order.
    reorder: bool = False
    # Item ids whose events are never delivered, though they take their place in positions.
    leave_out: list[str] = Field(default_factory=list)


class StreamPositionError(ValueError):
    """A stream position the log cannot be read from; `expired` when expiry dropped it."""

    def __init__(self, message: str, *, expired: bool = False):
        super().__init__(message)
        self.expired = expired


def _start_of_instance() -> int:
    """A Box-like 16-digit position: the start time in ms, times 1000."""
    return int(time.time() * 1000) * 1000


@dataclass
class EventLog:
    """The events kept, oldest first, after the `dropped` ones that expired."""

    base: int = field(default_factory=_start_of_instance)
    events: list[dict] = field(default_factory=list)
    dropped: int = 0
    delivery: Delivery = field(default_factory=Delivery)

    @property
    def oldest(self) -> int:
        """The position before the oldest event kept: older positions have expired."""
        return self.base + self.dropped

    @property
    def end(self) -> int:
        return self.oldest + len(self.events)

    def record(self, event_type: str, source: dict, user: dict, now: str) -> None:
        self.events.append(
            {
                "type": "event",
                "event_id": secrets.token_hex(20),
                "event_type": event_type,
                "created_at": now,
                "recorded_at": now,
                "created_by": user,
                "source": source,
            }
        )

    def expire(self) -> None:
        """Expire every position before the end, dropping the events up to it."""
        self.dropped += len(self.events)
        self.events.clear()

    def kept(self) -> list[dict]:
        """Each event kept with the position after it."""
        return [
            {"position": self.oldest + number, "event": event}
            for number, event in enumerate(self.events, start=1)
        ]

    def read(self, stream_position: str | None, limit: int) -> dict:
        """Box's `Events` answer for a read of up to `limit` events after `stream_position`."""
        if stream_position == "now":
            return _answer([], self.end)
        first = self._index(stream_position)
        wanted = min(limit, self.delivery.max_chunk or limit)
        entries, index = [], first
        while index < len(self.events) and len(entries) < wanted:
            if self._delivered(self.events[index]):
                entries.append(self.events[index])
            index += 1
        before = self.events[first - 1] if first > 0 else None
        if self.delivery.repeat and entries and before and self._delivered(before):
            entries.insert(0, before)
        if self.delivery.reorder:
            entries.reverse()
        return _answer(entries, self.oldest + index)

    def _index(self, stream_position: str | None) -> int:
        """Where in the events kept a read from `stream_position` starts."""
        if not stream_position:
            return 0
        if not re.fullmatch(r"[0-9]+", stream_position):
            raise StreamPositionError(f"Invalid stream position '{stream_position}'")
        position = int(stream_position)
        if position == 0:
            return 0
        if position > self.end:
            raise StreamPositionError(f"Stream position {position} is beyond the end of the stream")
        if position < self.oldest:
            raise StreamPositionError("The stream position has expired", expired=True)
        return position - self.oldest

    def _delivered(self, event: dict) -> bool:
        return event["source"]["item_id"] not in self.delivery.leave_out


def _answer(entries: list[dict], next_position: int) -> dict:
    return {
        "chunk_size": len(entries),
        "next_stream_position": str(next_position),
        "entries": entries,
    }


def control_routes(log: EventLog) -> APIRouter:
    """`GET events` (the log as kept), `GET`/`PUT events/delivery`, `POST events/expire`."""
    router = APIRouter(prefix=f"{CONTROL_PREFIX}events", tags=["sandbox"])

    @router.get("")
    async def kept() -> list[dict]:
        return log.kept()

    @router.get("/delivery")
    async def delivery() -> Delivery:
        return log.delivery

    @router.put("/delivery")
    async def set_delivery(delivery: Delivery | None = None) -> Delivery:
        """Deliver as given from now on; fields left out (or no body) go back to their defaults."""
        log.delivery = delivery or Delivery()
        return log.delivery

    @router.post("/expire", status_code=204)
    async def expire() -> None:
        log.expire()

    return router
