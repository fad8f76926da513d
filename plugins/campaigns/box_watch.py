"""The poll's use of Box's change feed: read it once per run, then pick the campaigns to list.

The rules are ``campaigns.watch``'s; this module does the I/O: the tracking database keeps the
stream position, each run's read and each campaign's last listing; the feed is read through a
BoxHook. A run's read is kept, so a task run again lists the same campaigns.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from campaigns.rules import Outcome
from campaigns.watch import (
    EventRead,
    Listed,
    Listing,
    WatchRecord,
    new_changes,
    stream_expired,
    why_listed,
)

if TYPE_CHECKING:
    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.retry_state import RetryStateHook, TrackedCampaign
    from campaigns.settings import PipelineSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Plan:
    """The campaigns to list in Box this poll, those keeping their empty outcome, and the read."""

    to_list: list[dict[str, Any]]
    unchanged: list[dict[str, Any]]
    read: EventRead | None


def plan_listing(
    campaigns: list[dict[str, Any]],
    settings: PipelineSettings,
    state: RetryStateHook,
    tracked: dict[str, TrackedCampaign],
    run_id: str,
    run_at: datetime,
) -> Plan:
    """Which campaigns to list this poll: all in ``list`` mode, else by the feed's rules."""
    if settings.box_watch == "list":
        return Plan([{**c, "listed_for": Listed.FULL.value} for c in campaigns], [], None)
    from campaigns.hooks.box import BoxHook

    box = BoxHook(requests_per_minute=settings.box_requests_per_minute)
    read = read_feed(state, box, run_id)
    changed = set(read.changed_ids)
    watched = state.get_watched([c["campaign_id"] for c in campaigns])
    to_list, unchanged, reasons = [], [], Counter()
    for campaign in campaigns:
        campaign_id = campaign["campaign_id"]
        seen = watched.get(campaign_id)
        announced = campaign_id in changed or (seen is not None and seen.changed)
        why = why_listed(
            campaign_id,
            campaign["box_folder_id"],
            tracked[campaign_id].state.episode,
            seen,
            announced,
            run_at,
            settings.reconcile_hours,
            full=read.full_listing is not None,
        )
        if why is None:
            unchanged.append(campaign)
            continue
        reasons[why.value] += 1
        to_list.append({**campaign, "listed_for": why.value, "announced": announced})
    log.info(
        "Box: %d campaigns to list (%s), %d unchanged since their last listing",
        len(to_list),
        ", ".join(f"{why} {n}" for why, n in sorted(reasons.items())) or "none",
        len(unchanged),
    )
    return Plan(to_list, unchanged, read)


def read_feed(state: RetryStateHook, box: BoxHook, run_id: str) -> EventRead:
    """This run's read of the change feed: the one kept, or a new one from the saved position.

    No position, one older than Box keeps events, or one Box refuses means a full listing, and
    the feed's current position to read from next time.
    """
    from campaigns.hooks.box_feed import StreamRefused, current_position, read_changes

    key = box.stream_key
    kept = state.event_read(run_id, key)
    if kept is not None:
        return kept
    stream = state.event_stream(key)
    box.sign_in()
    full = None
    changes = []
    if stream is None:
        full = "no position in Box's change feed yet"
    elif stream_expired(stream[1], datetime.now(UTC)):
        full = f"the change feed's position is from {stream[1]:%Y-%m-%d}, older than Box keeps"
    else:
        try:
            read = read_changes(box, stream[0])
        except StreamRefused as error:
            full = str(error)
        else:
            changes = new_changes(read.changes, state.last_event_ids(key, run_id))
            to_position = read.next_position
    if full:
        log.warning("Listing every campaign in Box: %s", full)
        to_position = current_position(box)
    folder_ids = set().union(*(change.folder_ids() for change in changes))
    changed_ids = state.campaigns_in_folders(folder_ids) if folder_ids else []
    log.info(
        "Box's change feed: %d events, touching %d tracked campaigns",
        len(changes),
        len(changed_ids),
    )
    return state.save_event_read(
        EventRead(
            run_id=run_id,
            stream_key=key,
            from_position=stream and stream[0],
            to_position=to_position,
            full_listing=full,
            changed_ids=tuple(changed_ids),
            event_ids=tuple(change.event_id for change in changes),
            event_count=len(changes),
        )
    )


def unchanged_check(campaign: dict[str, Any]) -> dict[str, Any]:
    """A campaign no event touched, decided as its last listing found it: empty."""
    return {
        **campaign,
        "outcome": Outcome.EMPTY.value,
        "reason": None,
        "assets": [],
        "unchanged": True,
    }


def watch_record(
    checked: list[dict[str, Any]],
    listed_ids: list[str],
    run_id: str,
    stream_key: str | None,
    state: RetryStateHook,
) -> WatchRecord:
    """What decide keeps of this poll's listings; the stream advances once all were checked."""
    listings = {
        c["campaign_id"]: Listing(
            box_folder_id=c["box_folder_id"],
            folder_ids=frozenset(c.get("folder_ids") or ()),
            outcome=Outcome(c["outcome"]),
            listed_for=Listed(c["listed_for"]),
            announced=c.get("announced", False),
        )
        for c in checked
        if not c.get("unchanged")
    }
    read = state.event_read(run_id, stream_key) if stream_key else None
    return WatchRecord(listings, read, complete=set(listed_ids) <= set(listings))
