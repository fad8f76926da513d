"""Which campaigns to list in Box at a poll: the change feed's rules, pure, no I/O.

A campaign whose folders no event touched since its last listing found them empty keeps that
outcome: it is decided as an empty poll without a Box call. Every other campaign is listed: new
ones, those whose last listing found files or an error, those an event touched, those due for
their reconciliation (each campaign at least every ``reconcile_hours``, spread over the polls),
and every campaign when the feed cannot be read from a known position. A reconciliation that
finds a change no event announced counts a missed event and lists the campaign every poll until
the feed announces a change to it again (*proving*).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from campaigns.rules import POLL_MINUTES, Outcome

RECONCILE_HOURS = 24
# How long Box keeps the events of a stream: an older position cannot be trusted to be whole.
BOX_KEEPS_EVENTS = timedelta(days=14)
WATCH_MODES = ("events", "list")


class Listed(StrEnum):
    """Why a campaign is listed in Box at this poll."""

    NEW = "new"
    NOT_EMPTY = "not empty"
    CHANGED = "changed"
    PROVING = "proving"
    RECONCILE = "reconcile"
    FULL = "full listing"


@dataclass(frozen=True)
class Change:
    """One event of the feed, reduced to the Box ids it touches."""

    event_id: str
    item_type: str
    item_id: str
    parent_id: str | None = None
    path_ids: tuple[str, ...] = ()

    def folder_ids(self) -> set[str]:
        """The folders whose content this event changes (the item itself, if a folder)."""
        ids = {self.parent_id, *self.path_ids}
        if self.item_type == "folder":
            ids.add(self.item_id)
        return {i for i in ids if i}


@dataclass(frozen=True)
class Watched:
    """What the last listing of a campaign saw: its folders, outcome and episode."""

    box_folder_id: str | None
    folder_ids: frozenset[str]
    outcome: Outcome | None
    episode: int
    listed_at: datetime
    changed: bool = False
    proving: bool = False


@dataclass(frozen=True)
class Listing:
    """What this poll's listing of a campaign saw, why it was listed, and whether an event of
    this poll's read touched it (``announced``)."""

    box_folder_id: str | None
    folder_ids: frozenset[str]
    outcome: Outcome
    listed_for: Listed
    announced: bool = False


def new_changes(changes: Iterable[Change], seen_event_ids: Iterable[str] = ()) -> list[Change]:
    """The changes in feed order, each event once: repeats and those seen already dropped."""
    seen = set(seen_event_ids)
    kept = []
    for change in changes:
        if change.event_id not in seen:
            seen.add(change.event_id)
            kept.append(change)
    return kept


def reconcile_slots(reconcile_hours: float) -> int:
    """Polls in one reconciliation period: each campaign is listed at one of them."""
    return max(1, round(reconcile_hours * 60 / POLL_MINUTES))


def reconciles(
    campaign_id: str, run_at: datetime, listed_at: datetime, reconcile_hours: float
) -> bool:
    """Whether this poll reconciles the campaign: its slot, or a slot missed (listed too long ago).

    Slots spread the campaigns evenly over the polls of a period by a hash of their id.
    """
    slots = reconcile_slots(reconcile_hours)
    digest = int.from_bytes(hashlib.sha256(campaign_id.encode()).digest()[:8], "big")
    poll = int(run_at.timestamp() // (POLL_MINUTES * 60))
    return poll % slots == digest % slots or run_at - listed_at >= timedelta(hours=reconcile_hours)


def why_listed(
    campaign_id: str,
    box_folder_id: str | None,
    episode: int,
    watched: Watched | None,
    changed: bool,
    run_at: datetime,
    reconcile_hours: float,
    full: bool = False,
) -> Listed | None:
    """Why the campaign must be listed at this poll; None: it keeps its empty outcome."""
    if full:
        return Listed.FULL
    if (
        watched is None
        or watched.outcome is None
        or watched.episode != episode
        or watched.box_folder_id != box_folder_id
    ):
        return Listed.NEW
    if watched.outcome is not Outcome.EMPTY:
        return Listed.NOT_EMPTY
    if changed:
        return Listed.CHANGED
    if watched.proving:
        return Listed.PROVING
    if reconciles(campaign_id, run_at, watched.listed_at, reconcile_hours):
        return Listed.RECONCILE
    return None


def missed(before: Watched | None, now: Listing) -> bool:
    """Whether a reconciliation found a change that no event announced."""
    return (
        now.listed_for is Listed.RECONCILE
        and before is not None
        and (before.outcome is not now.outcome or before.folder_ids != now.folder_ids)
    )


def still_proving(before: Watched | None, now: Listing) -> bool:
    """Whether it stays listed every poll: a miss starts that, an announced change ends it."""
    return missed(before, now) or (before is not None and before.proving and not now.announced)


def stream_expired(saved_at: datetime, now: datetime) -> bool:
    """Whether a stream position saved at ``saved_at`` is older than Box keeps events."""
    return now - saved_at > BOX_KEEPS_EVENTS


@dataclass(frozen=True)
class EventRead:
    """A run's read of the change feed: from where to where, the campaigns it found changed, and
    why every campaign is listed instead (``full_listing``; None: the feed was read)."""

    run_id: str
    stream_key: str
    from_position: str | None
    to_position: str
    full_listing: str | None
    changed_ids: tuple[str, ...]
    event_ids: tuple[str, ...]
    event_count: int
    read_at: datetime | None = None


@dataclass(frozen=True)
class WatchRecord:
    """What decide keeps of the feed with a poll: each listing, the run's read, and whether every
    campaign the read asked to list was checked (only then does the stream advance)."""

    listings: Mapping[str, Listing]
    read: EventRead | None
    complete: bool
