"""What the campaigns page shows: the dashboard figures, the near-failure alert, the campaigns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
) -> dict[str, Any]:
    """The campaigns at A1 the filters let through, with the figures of all campaigns at A1.

    ``max_retries`` is the global limit of folder errors in a row (a campaign's own overrides it).
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
        "campaigns": [{k: v for k, v in row.items() if k != "matching"} for row in rows],
    }
