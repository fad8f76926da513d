"""The weekly digest (DAG ``a1_weekly_digest``): campaigns stuck at A1 or failed, one email."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

log = logging.getLogger(__name__)

TEMPLATE = "a1_to_a2_weekly_digest"


def stuck_report(state: RetryStateHook, days: int) -> dict[str, list[dict[str, Any]]]:
    """Campaigns at A1 for more than ``days`` days and all permanently failed ones."""
    report: dict[str, list[dict[str, Any]]] = {"waiting": [], "failed": []}
    for row in state.run_query("stuck_campaigns", days=days):
        report[row["kind"]].append(
            {
                "campaign_id": row["campaign_id"],
                "campaign_number": row["campaign_number"],
                "campaign_name": row["campaign_name"] or row["campaign_number"],
                "since": row["since"].astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "stuck_for": stuck_for(row["stuck_seconds"]),
                "reason": row["reason"],
            }
        )
    return report


def stuck_for(seconds: int) -> str:
    """A duration in days and hours, e.g. ``9 days 4 hours`` (under an hour: ``0 hours``)."""
    days, hours = divmod(max(seconds, 0) // 3600, 24)
    parts = [f"{days} day{'s' * (days != 1)}"] if days else []
    if hours or not days:
        parts.append(f"{hours} hour{'s' * (hours != 1)}")
    return " ".join(parts)


def send_digest(
    report: Mapping[str, list[dict[str, Any]]],
    days: int,
    recipients: tuple[str, ...],
    sender: str | None,
) -> bool:
    """Email the digest; False (and no email) when there is nothing to report."""
    from campaigns.notify import render_email, send_email

    if not any(report.values()):
        log.info(
            "No campaign at A1 for more than %d days and none permanently failed: no email", days
        )
        return False
    email = render_email(TEMPLATE, days=days, waiting=report["waiting"], failed=report["failed"])
    send_email(email, recipients, sender)
    log.info("Sent %r to %s", email.subject, ", ".join(recipients))
    return True
