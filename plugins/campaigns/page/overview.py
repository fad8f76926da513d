"""What the campaigns page shows: the dashboard figures, the near-failure alert, the campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from campaigns.settle import settling_text

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

# Rows the page lists at most; the figures and "matching" still count every campaign.
LIMIT = 500


def campaigns_overview(
    state: RetryStateHook,
    max_retries: int,
    *,
    failed: bool = False,
    warned: bool = False,
    search: str | None = None,
    limit: int = LIMIT,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The campaigns at A1 the filters let through, with the figures of all campaigns at A1.

    ``max_retries`` is the global limit of folder errors in a row (a campaign's own overrides it).
    A campaign whose files are still arriving says so in ``settling`` ("4 files, last change 2
    minutes ago"), as of ``now`` (default: the current time); None otherwise.
    """
    rows = state.run_query(
        "campaigns_at_a1",
        failed=failed,
        warned=warned,
        search=(search or "").strip() or None,
        max_retries=max_retries,
        limit=limit,
    )
    [dashboard] = state.run_query("dashboard")
    return {
        "dashboard": dashboard,
        "near_failure": state.run_query("near_failure_alert", max_retries=max_retries),
        "matching": rows[0]["matching"] if rows else 0,
        "campaigns": [_shown(row, now or datetime.now(UTC)) for row in rows],
    }


def _shown(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A campaign's row as the page lists it: how its settling upload stands, in words."""
    shown = {k: v for k, v in row.items() if k not in ("matching", "settling_files")}
    last_change = shown.pop("settling_last_change_at")
    files = row["settling_files"]
    quiet_for = None if last_change is None else max(now - last_change, timedelta())
    shown["settling"] = None if files is None else settling_text(files, quiet_for)
    return shown
