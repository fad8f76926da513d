"""The operators' manual operations, as the DAG ``a1_campaign_admin`` carries them out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

log = logging.getLogger(__name__)

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

    A refused operation (Refused) changes nothing and writes no audit row.
    """
    if action not in ACTIONS:
        raise Refused(f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    details: dict[str, Any] = {}
    if action == RESET_ALL_FAILED:
        touched = state.reset_campaigns([], all_failed=True)
    else:
        found = find_campaign(state, campaign)
        campaign_id = found["campaign_id"]
        details = {"campaign": campaign, "campaign_number": found["campaign_number"]}
        if action == RESET_CAMPAIGN:
            details["was_permanently_failed"] = found["a1_permanently_failed"]
            touched = state.reset_campaigns([campaign_id])
        else:
            if action == SET_RETRY_LIMIT and max_retries is None:
                raise Refused("set a retry limit: give the limit (a whole number, at least 1)")
            limit = max_retries if action == SET_RETRY_LIMIT else None
            details |= {"previous_max_retries": found["a1_max_retries"], "max_retries": limit}
            state.set_max_retries(campaign_id, limit)
            touched = [campaign_id]
    audit_id = state.record_manual_operation(performed_by, action, touched, details, run_id)
    log.info(
        "%s by %s: %d campaigns (%s); audit row %d",
        ACTIONS[action],
        performed_by,
        len(touched),
        ", ".join(touched) or "none",
        audit_id,
    )
    return {"action": action, "campaign_ids": touched, "audit_id": audit_id, **details}
