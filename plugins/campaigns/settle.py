"""When a Master Assets tree has stopped changing: the settle rule, pure, no I/O.

Uploads land one file at a time over minutes. A campaign is promoted only once its tree has been
quiet for ``settle_minutes``. Files are dated by Box's own ``created_at``/``modified_at``; a file
that went away leaves no date, so it counts as a change at the look that first missed it, and a
file whose content differs from the last look without a newer date likewise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from campaigns.names import comparable

# Quiet minutes before a tree counts as settled by default: two polls of three minutes.
SETTLE_MINUTES = 6


@dataclass(frozen=True)
class FileSeen:
    """One file of the tree as a look saw it: its content (sha1 and size) and Box's latest date."""

    file_id: str
    sha1: str
    size: int
    changed_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """What the last look saw: each file's content by id, and the last change known then."""

    files: Mapping[str, tuple[str, int]]
    last_change_at: datetime | None


@dataclass(frozen=True)
class Settling:
    """A look's verdict: settled or not, since when the tree is quiet, and the snapshot to keep."""

    settled: bool
    last_change_at: datetime | None
    snapshot: Snapshot

    def quiet_for(self, now: datetime) -> timedelta | None:
        """How long the tree has been quiet at ``now``; None for a tree never seen changing."""
        return None if self.last_change_at is None else max(now - self.last_change_at, timedelta())


def settle(
    previous: Snapshot | None,
    files: Iterable[FileSeen],
    now: datetime,
    settle_minutes: int,
    ready_marker_seen: bool = False,
) -> Settling:
    """The verdict on a look at ``now`` at ``files``, after the ``previous`` look (None: first)."""
    seen = {file.file_id: file for file in files}
    dates = [file.changed_at for file in seen.values()]
    if previous is not None:
        if previous.last_change_at is not None:
            dates.append(previous.last_change_at)
        gone = previous.files.keys() - seen.keys()
        # Changed (or newly here) since the last look, yet dated no later than what that look
        # knew: Box's date does not show the change (a move keeping its date), so it is dated now.
        undated = [
            file
            for file_id, file in seen.items()
            if previous.files.get(file_id) != (file.sha1, file.size)
            and previous.last_change_at is not None
            and file.changed_at <= previous.last_change_at
        ]
        if gone or undated:
            dates.append(now)
    last_change_at = max(dates, default=None)
    snapshot = Snapshot(
        {file_id: (file.sha1, file.size) for file_id, file in seen.items()}, last_change_at
    )
    quiet = last_change_at is None or now - last_change_at >= timedelta(minutes=settle_minutes)
    return Settling(ready_marker_seen or settle_minutes == 0 or quiet, last_change_at, snapshot)


def is_ready_marker(name: str, ready_marker: str | None) -> bool:
    """Whether a file named ``name`` is the ready marker (compared as people read names)."""
    return ready_marker is not None and comparable(name) == comparable(ready_marker)


def settling_text(file_count: int, quiet_for: timedelta | None) -> str:
    """What an operator reads of a settling tree: "4 files, last change 2 minutes ago"."""
    files = f"{file_count} file{'' if file_count == 1 else 's'}"
    if quiet_for is None:
        return files
    minutes = int(quiet_for.total_seconds() // 60)
    ago = (
        "less than a minute ago"
        if minutes < 1
        else f"{minutes} minute{'' if minutes == 1 else 's'} ago"
    )
    return f"{files}, last change {ago}"
