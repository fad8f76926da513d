"""What the HTTP hooks share on the wire: ids in URL paths."""

from __future__ import annotations

from urllib.parse import quote

from campaigns.errors import FolderError

# Path segments every URL parser resolves away: no id can travel as one of them.
DOT_SEGMENTS = (".", "..")


def path_segment(item_id: str, label: str) -> str:
    """`item_id` as one URL path segment, percent-encoded; FolderError for "." and ".."."""
    if item_id in DOT_SEGMENTS:
        raise FolderError(
            f"{label[:1].upper()}{label[1:]} id {item_id!r} cannot stand in a URL path"
        )
    return quote(item_id, safe="")
