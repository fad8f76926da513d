"""What the HTTP hooks share on the wire: TLS verification as a connection sets it, ids in paths."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from campaigns.errors import FolderError

# Path segments every URL parser resolves away: no id can travel as one of them.
DOT_SEGMENTS = (".", "..")


def verify_setting(value: Any) -> bool | str:
    """TLS verification: on, off, or the path of a CA bundle; on unless turned off explicitly."""
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("false", "0", "no", "off"):
        return False
    if lowered in ("true", "1", "yes", "on"):
        return True
    return str(value)


def path_segment(item_id: str, label: str) -> str:
    """`item_id` as one URL path segment, percent-encoded; FolderError for "." and ".."."""
    if item_id in DOT_SEGMENTS:
        raise FolderError(
            f"{label[:1].upper()}{label[1:]} id {item_id!r} cannot stand in a URL path"
        )
    return quote(item_id, safe="")
