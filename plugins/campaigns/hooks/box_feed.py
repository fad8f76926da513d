"""Box's change feed (``GET /events``, stream ``changes``), read through a BoxHook's client."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from box_sdk_gen import BoxAPIError
from box_sdk_gen.managers.events import GetEventsStreamType

from campaigns.hooks.box import is_system_file
from campaigns.watch import Change

if TYPE_CHECKING:
    from campaigns.hooks.box import BoxHook

PAGE_LIMIT = 500
# A read stops after this many pages; the rest is read at the next poll, from where it stopped.
MAX_PAGES = 100
# What Box answers for a position it no longer has or never gave.
REFUSED = frozenset({400, 404, 410})


class StreamRefused(Exception):
    """Box refused the stream position: the feed cannot say what changed since then."""


@dataclass(frozen=True)
class ChangeRead:
    """The changes read from a position, and the position to read from next time."""

    changes: tuple[Change, ...]
    next_position: str


def current_position(box: BoxHook) -> str:
    """The feed's position now: events after it are read at the next poll."""
    return _page(box, "now")[1]


def read_changes(box: BoxHook, position: str) -> ChangeRead:
    """Every change after ``position``, paged until Box has no more (or ``MAX_PAGES``).

    Raises StreamRefused when Box no longer has (or never gave) that position.
    """
    changes: list[Change] = []
    for _ in range(MAX_PAGES):
        entries, next_position = _page(box, position)
        if not entries:
            return ChangeRead(tuple(changes), next_position)
        changes += [change for entry in entries if (change := change_from(entry))]
        position = next_position
    box.log.warning(
        "Stopped reading Box's change feed after %d pages; the rest next poll", MAX_PAGES
    )
    return ChangeRead(tuple(changes), position)


def change_from(event: Mapping[str, Any]) -> Change | None:
    """The ids an event's source touches; None for an event about no file or folder, or about
    a system file (never an asset, so no change to a campaign).

    The source is a file or folder (``id``, ``type``, ``parent``, ``path_collection``) or Box's
    event-source shape (``item_id``, ``item_type``, ``parent``).
    """
    source = event.get("source")
    if not isinstance(source, Mapping):
        return None
    item_type = source.get("item_type") or source.get("type")
    item_id = source.get("item_id") or source.get("id")
    if item_type not in ("file", "folder") or not item_id:
        return None
    name = source.get("item_name") or source.get("name") or ""
    if item_type == "file" and is_system_file(name):
        return None
    parent = source.get("parent")
    path = (source.get("path_collection") or {}).get("entries") or ()
    # Told apart by what happened when, should Box ever send an event without its id.
    event_id = event.get("event_id") or f"{item_type} {item_id} {event.get('created_at')}"
    return Change(
        event_id=str(event_id),
        item_type=item_type,
        item_id=str(item_id),
        parent_id=str(parent["id"]) if isinstance(parent, Mapping) and parent.get("id") else None,
        path_ids=tuple(str(entry["id"]) for entry in path if entry.get("id")),
    )


def _page(box: BoxHook, position: str) -> tuple[list[dict[str, Any]], str]:
    """One answer of the feed from ``position``: its events (as Box sent them) and the next one."""
    try:
        with box.box_errors("read of the change feed"):
            events = box.client.events.get_events(
                stream_type=GetEventsStreamType.CHANGES,
                stream_position=position,
                limit=PAGE_LIMIT,
            )
    except BoxAPIError as error:
        status = error.response_info.status_code
        if status in REFUSED and position != "now":
            said = (error.response_info.body or {}).get("message") or error.message
            raise StreamRefused(
                f"Box refused stream position {position} ({status}: {said})"
            ) from error
        raise
    raw = events.raw_data
    return list(raw.get("entries") or ()), str(raw["next_stream_position"])
