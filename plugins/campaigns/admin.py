"""The operators' manual operations, as the DAG ``a1_campaign_admin`` carries them out.

Also the automatic reset of campaigns failed long ago (setting ``auto_reset_failed_after_days``),
audited like the manual ones.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

log = logging.getLogger(__name__)

AUTO_RESET_BY = "a1_to_a2 auto-reset"
AUTO_RESET_FAILED = "auto_reset_failed"

RESET_CAMPAIGN = "reset_campaign"
RESET_ALL_FAILED = "reset_all_failed"
SET_RETRY_LIMIT = "set_retry_limit"
CLEAR_RETRY_LIMIT = "clear_retry_limit"
# The admin form's choices, as the trigger form shows them.
ACTIONS = {
    RESET_CAMPAIGN: "reset campaign",
    RESET_ALL_FAILED: "reset all permanently failed campaigns",
    SET_RETRY_LIMIT: "set the campaign's retry limit",
    CLEAR_RETRY_LIMIT: "clear the campaign's retry limit",
}


class Refused(Exception):
    """A manual operation that was not carried out: unknown campaign or incomplete form."""


def find_campaign(state: RetryStateHook, campaign: str | None) -> dict[str, Any]:
    """The one tracked campaign with this DAM id or campaign number; Refused otherwise."""
    key = (campaign or "").strip()
    if not key:
        raise Refused("name the campaign: its DAM id or its campaign number")
    rows = state.run_query("check_campaign", campaign=key)
    if not rows:
        raise Refused(
            f"unknown campaign {key!r}: no campaign with this DAM id or campaign number was "
            "ever seen at A1 by the pipeline; nothing was changed"
        )
    if len(rows) > 1:
        ids = ", ".join(row["campaign_id"] for row in rows)
        raise Refused(f"campaign {key!r} is ambiguous ({ids}): give its DAM id instead")
    return rows[0]


def administer(
    state: RetryStateHook,
    action: str,
    campaign: str | None,
    max_retries: int | None,
    performed_by: str,
    run_id: str | None,
) -> dict[str, Any]:
    """Carry out one manual operation and write its audit row; what was done.

    A refused operation (Refused) changes nothing and writes no audit row; each change and its
    audit row are one transaction.
    """
    from campaigns.hooks.retry_state import ManualOperation

    if action not in ACTIONS:
        raise Refused(f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    if action == RESET_ALL_FAILED:
        details: dict[str, Any] = {}
        operation = ManualOperation(performed_by, action, details, run_id)
        touched, audit_id = state.reset_recorded(operation, all_failed=True)
    else:
        found = find_campaign(state, campaign)
        campaign_id = found["campaign_id"]
        details = {"campaign": campaign, "campaign_number": found["campaign_number"]}
        if action == RESET_CAMPAIGN:
            details["was_permanently_failed"] = found["a1_permanently_failed"]
            operation = ManualOperation(performed_by, action, details, run_id)
            touched, audit_id = state.reset_recorded(operation, [campaign_id])
        else:
            if action == SET_RETRY_LIMIT and max_retries is None:
                raise Refused("set a retry limit: give the limit (a whole number, at least 1)")
            limit = max_retries if action == SET_RETRY_LIMIT else None
            details |= {"previous_max_retries": found["a1_max_retries"], "max_retries": limit}
            operation = ManualOperation(performed_by, action, details, run_id)
            audit_id = state.set_max_retries_recorded(operation, campaign_id, limit)
            if audit_id is None:  # found a moment ago: its row was deleted by hand since
                raise Refused(f"campaign {campaign!r} is no longer tracked; nothing was changed")
            touched = [campaign_id]
    log.info(
        "%s by %s: %d campaigns (%s); audit row %d",
        ACTIONS[action],
        performed_by,
        len(touched),
        ", ".join(touched) or "none",
        audit_id,
    )
    return {"action": action, "campaign_ids": touched, "audit_id": audit_id, **details}


def auto_reset_failed(state: RetryStateHook, days: int, run_id: str) -> list[str]:
    """Reset the campaigns permanently failed ``days`` ago or longer, audited; the ids reset.

    Safe to run again: a campaign once reset is no longer failed, so it is not reset twice.
    """
    from campaigns.hooks.retry_state import ManualOperation

    operation = ManualOperation(AUTO_RESET_BY, AUTO_RESET_FAILED, {"failed_for_days": days}, run_id)
    reset, audit_id = state.reset_recorded(operation, failed_for_days=days)
    if reset:
        log.info(
            "Auto-reset %d campaigns permanently failed %d days ago or longer (%s); audit row %d",
            len(reset),
            days,
            ", ".join(reset),
            audit_id,
        )
    return reset
